// Test support: the three gemm engines the matmul properties run every product on, and their shutdown.
import { afterAll } from 'vitest';
import { WasmGemm } from '../src/wasm/wasm-gemm.js';

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
