// Test support: the gemm engines the matmul properties run every product on (three kinds, each in
// both module builds, so CI covers the relaxed-SIMD 'fma' build and the SIMD128 fallback alike),
// their shutdown, and the arbitraries those properties share.
import fc from 'fast-check';
import { afterAll } from 'vitest';
import type { GemmVariant } from '../src/wasm/gemm-module.js';
import { WasmGemm } from '../src/wasm/wasm-gemm.js';
import { broadcastableArb } from './views.js';

/** The batch dims of A and B: up to two dims of 1-3, each side broadcastable against the other. */
export const batchPairArb = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }).chain((b) => fc.tuple(broadcastableArb(b), broadcastableArb(b)));

/** Both builds of the gemm module. */
export const VARIANTS: readonly GemmVariant[] = ['fma', 'simd128'];

/** How an engine splits products (see gemmEngines). */
export type EngineKind = 'single' | 'split' | 'batched';

/** One engine of each kind. */
export type Engines = Record<EngineKind, WasmGemm>;

/** Which of gemmEngines() a product runs on: the build and the kind. */
export const engineArb = fc.tuple(fc.constantFrom(...VARIANTS), fc.constantFrom<EngineKind>('single', 'split', 'batched'));

/**
 * Per build: one engine on the calling thread; one that splits every product across two threads
 * (threshold 0, so small random shapes exercise the workers, and B, where its span allows, is copied
 * in raw and packed by the module); one that splits batches of entries below 200k multiply-adds
 * (whole entries per thread) and larger products by slivers. Their workers stop after the importing
 * file's tests.
 */
export function gemmEngines(): Record<GemmVariant, Engines> {
  const make = (variant: GemmVariant): Engines => ({ single: new WasmGemm(1, undefined, variant), split: new WasmGemm(2, 0, variant), batched: new WasmGemm(2, 200_000, variant) });
  const engines = { fma: make('fma'), simd128: make('simd128') };
  afterAll(() => {
    for (const e of Object.values(engines)) {
      e.split.close();
      e.batched.close();
    }
  });
  return engines;
}
