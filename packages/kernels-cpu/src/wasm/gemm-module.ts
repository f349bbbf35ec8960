// Compiling the committed SIMD gemm bytes once per process, and the feature test that decides
// whether the WebAssembly path can run here at all.
import { GEMM_WASM_BASE64 } from './gemm-bytes.js';

/** Rows of C per micro-tile; must match wasm/gemm-wat.ts (a test checks the bytes match it). */
export const MR = 4;
/** Columns of C per micro-tile. */
export const NR = 8;
/** Depth of a packed block. */
export const KC = 256;

let compiled: WebAssembly.Module | null | undefined;

/** Bytes of a base64 string (atob: Node and browsers alike). */
export function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * The compiled gemm module, or null where WebAssembly SIMD or shared memory is missing (old
 * runtimes, or a browser page that is not cross-origin isolated).
 */
export function gemmModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    if (typeof WebAssembly === 'undefined' || typeof SharedArrayBuffer === 'undefined') return (compiled = null);
    const bytes = decodeBase64(GEMM_WASM_BASE64);
    // validate() is false (not a throw) when SIMD or threads are unsupported.
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    compiled = null;
  }
  return compiled;
}
