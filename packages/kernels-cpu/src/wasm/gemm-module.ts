// Compiling the committed gemm bytes once per process, the feature tests that decide whether the
// WebAssembly path can run here at all, and which of its two builds runs: 'fma' (relaxed SIMD's
// f32x4.relaxed_madd, a fused multiply-add on x86 with FMA) where the engine accepts relaxed SIMD,
// else 'simd128' (f32x4.mul + f32x4.add). Worker threads are handed the caller's compiled module, so
// every thread of a product runs the same build.
import { GEMM_WASM_BASE64 } from './gemm-bytes.js';
import { GEMM_FMA_WASM_BASE64 } from './gemm-fma-bytes.js';

/** A build of the gemm module: 'fma' multiplies-and-adds with relaxed SIMD, 'simd128' with SIMD128 alone. */
export type GemmVariant = 'fma' | 'simd128';

/** Register tile (MR rows × NR columns of C) and depth block (KC) of one build; packing follows them. */
export interface GemmTile {
  readonly mr: number;
  readonly nr: number;
  readonly kc: number;
}

/** Each build's tile; must match GEMM_SHAPES in wasm/gemm-wat.ts (a test checks the bytes and these). */
export const GEMM_TILES: Readonly<Record<GemmVariant, GemmTile>> = {
  simd128: { mr: 4, nr: 8, kc: 256 },
  fma: { mr: 5, nr: 8, kc: 256 },
};

/** Environment variable that forces a build: `TESSERA_GEMM_VARIANT=simd128` (or `fma`). */
export const GEMM_VARIANT_ENV = 'TESSERA_GEMM_VARIANT';

const SOURCES: Readonly<Record<GemmVariant, string>> = { simd128: GEMM_WASM_BASE64, fma: GEMM_FMA_WASM_BASE64 };
const compiled = new Map<GemmVariant, WebAssembly.Module | null>();
let relaxed: boolean | undefined;

/** Bytes of a base64 string (atob: Node and browsers alike). */
export function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** (func (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2))) */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b,
]);

/**
 * True when this engine accepts relaxed SIMD. Chromium (114+) and Node 22+ have it on; Node 20's V8
 * has it behind --experimental-wasm-relaxed-simd, which is switched on here (process-wide, before any
 * module using it compiles; worker threads share the flag) unless TESSERA_GEMM_VARIANT=simd128.
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxed !== undefined) return relaxed;
  try {
    if (typeof WebAssembly === 'undefined') return (relaxed = false);
    if (!WebAssembly.validate(RELAXED_PROBE)) {
      const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
      const v8 = proc?.getBuiltinModule?.('node:v8') as { setFlagsFromString?: (flags: string) => void } | undefined;
      v8?.setFlagsFromString?.('--experimental-wasm-relaxed-simd');
    }
    relaxed = WebAssembly.validate(RELAXED_PROBE);
  } catch {
    relaxed = false;
  }
  return relaxed;
}

/** The build a new engine uses: TESSERA_GEMM_VARIANT when set, else 'fma' where relaxed SIMD validates, else 'simd128'. */
export function gemmVariant(): GemmVariant {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[GEMM_VARIANT_ENV];
  if (env !== undefined && env !== '') {
    if (env !== 'fma' && env !== 'simd128') throw new Error(`${GEMM_VARIANT_ENV}=${env}: expected 'fma' or 'simd128' (or leave it unset to choose by feature test)`);
    return env;
  }
  return relaxedSimdAvailable() ? 'fma' : 'simd128';
}

/**
 * The compiled gemm module of `variant`, or null where WebAssembly SIMD or shared memory is missing
 * (old runtimes, or a browser page that is not cross-origin isolated), or relaxed SIMD for 'fma'.
 */
export function gemmModule(variant: GemmVariant = 'simd128'): WebAssembly.Module | null {
  if (compiled.has(variant)) return compiled.get(variant)!;
  let module: WebAssembly.Module | null = null;
  try {
    if (typeof WebAssembly !== 'undefined' && typeof SharedArrayBuffer !== 'undefined' && (variant === 'simd128' || relaxedSimdAvailable())) {
      const bytes = decodeBase64(SOURCES[variant]);
      // validate() is false (not a throw) when SIMD or threads are unsupported.
      if (WebAssembly.validate(bytes)) module = new WebAssembly.Module(bytes);
    }
  } catch {
    module = null;
  }
  compiled.set(variant, module);
  return module;
}
