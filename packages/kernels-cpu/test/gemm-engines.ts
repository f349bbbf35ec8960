// Test support: the three gemm engines the matmul properties run every product on, their shutdown,
// and the arbitraries those properties share.
import fc from 'fast-check';
import { afterAll } from 'vitest';
import { WasmGemm } from '../src/wasm/wasm-gemm.js';
import { broadcastableArb } from './views.js';

/** The batch dims of A and B: up to two dims of 1-3, each side broadcastable against the other. */
export const batchPairArb = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }).chain((b) => fc.tuple(broadcastableArb(b), broadcastableArb(b)));

/** Which of gemmEngines() a product runs on. */
export const engineArb = fc.constantFrom<'single' | 'split' | 'batched'>('single', 'split', 'batched');

/**
 * One engine on the calling thread; one that splits every product across two threads (threshold 0,
 * so small random shapes exercise the workers, and B, where its span allows, is copied in raw and
 * packed by the module); one that splits batches of entries below 200k multiply-adds (whole entries
 * per thread) and larger products by slivers. Their workers stop after the importing file's tests.
 */
export function gemmEngines(): { single: WasmGemm; split: WasmGemm; batched: WasmGemm } {
  const engines = { single: new WasmGemm(1), split: new WasmGemm(2, 0), batched: new WasmGemm(2, 200_000) };
  afterAll(() => {
    engines.split.close();
    engines.batched.close();
  });
  return engines;
}
