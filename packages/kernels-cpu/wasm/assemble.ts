// Turns the generated WebAssembly text into bytes with wabt (a dev dependency: build and tests only).
import wabtInit from 'wabt';
import { elementwiseWat } from './elementwise-wat.js';
import { GEMM_SHAPES, gemmWat } from './gemm-wat.js';
import { reduceWat } from './reduce-wat.js';

/** Assembles and validates WebAssembly text with SIMD and threads (shared memory), plus relaxed SIMD when `relaxed`. */
export async function assembleWat(wat: string, relaxed = false): Promise<Uint8Array> {
  const features = { simd: true, threads: true, relaxed_simd: relaxed };
  const wabt = await wabtInit();
  const mod = wabt.parseWat('module.wat', wat, features);
  // The typings omit validate's feature options, which wabt.js reads: without them shared memory is refused.
  (mod.validate as (f: typeof features) => void)(features);
  const { buffer } = mod.toBinary({});
  mod.destroy();
  return buffer;
}

/** The assembled bytes of one variant of the SIMD gemm module ('fma': relaxed SIMD's f32x4.relaxed_madd). */
export async function assembleGemm(variant: keyof typeof GEMM_SHAPES = 'simd128'): Promise<Uint8Array> {
  return assembleWat(gemmWat(GEMM_SHAPES[variant]), variant === 'fma');
}

/**
 * The assembled bytes of one build of the SIMD elementwise module ('fma': relaxed SIMD's
 * f32x4.relaxed_madd), on a private memory or the agent's shared one.
 */
export async function assembleElementwise(variant: 'simd128' | 'fma' = 'simd128', memory: 'private' | 'shared' = 'private'): Promise<Uint8Array> {
  return assembleWat(elementwiseWat(variant, memory), variant === 'fma');
}

/** The assembled bytes of the SIMD reduction module. */
export async function assembleReduce(): Promise<Uint8Array> {
  return assembleWat(reduceWat());
}
