// Turns the generated WebAssembly text into bytes with wabt (a dev dependency: build and tests only).
import wabtInit from 'wabt';
import { elementwiseWat } from './elementwise-wat.js';
import { gemmWat } from './gemm-wat.js';

const FEATURES = { simd: true, threads: true };

/** The assembled bytes of the SIMD gemm module. */
export async function assembleGemm(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('gemm.wat', gemmWat(), FEATURES);
  // The typings omit validate's feature options, which wabt.js reads: without them shared memory is refused.
  (mod.validate as (features: typeof FEATURES) => void)(FEATURES);
  const { buffer } = mod.toBinary({});
  mod.destroy();
  return buffer;
}

/** The assembled bytes of the SIMD elementwise module. */
export async function assembleElementwise(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('elementwise.wat', elementwiseWat(), { simd: true });
  (mod.validate as (features: { simd: boolean }) => void)({ simd: true });
  const { buffer } = mod.toBinary({});
  mod.destroy();
  return buffer;
}
