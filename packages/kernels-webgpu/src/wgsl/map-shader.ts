// The generator behind every elementwise, broadcast, indexing and creation kernel: the kernel
// supplies `fn value(i: u32) -> T` (the output element at flat index i) and this wraps it into a
// shader where each invocation owns one output word, so packed outputs (f16, bf16, u8, bool) are
// written without atomics: an invocation computes the 2 or 4 elements sharing its word.
import type { DType } from '@tessera/tensor';
import { CONVERSIONS, computeType, elementsPerWord, encodeExpr, loadFunction } from './dtype-io.js';
import { ENTRY, FLAT_ID, INDEXING } from './indexing.js';
import { SCALAR_FUNCTIONS } from './scalar-functions.js';

/** What a map shader is made of. */
export interface MapShaderSpec {
  /** dtypes of the read-only inputs, loaded by `in0(e)`, `in1(e)`, ... (element index -> compute type). */
  readonly inputs: readonly DType[];
  readonly out: DType;
  /** WGSL body of `fn value(i: u32) -> <compute type of out>`. */
  readonly value: string;
  /** Extra WGSL functions the body calls. */
  readonly functions?: string;
  /** Also declare `old(e)`: the output's current element e (for kernels that update part of a buffer). */
  readonly readsOutput?: boolean;
}

/** WGSL source of a map shader. */
export function mapShaderSource({ inputs, out, value, functions, readsOutput }: MapShaderSpec): string {
  const decls = inputs.map((_, k) => `@group(0) @binding(${k + 1}) var<storage, read> b${k}: array<u32>;`).join('\n');
  const loads = inputs.map((d, k) => loadFunction(`in${k}`, `b${k}`, d)).join('\n');
  const ct = computeType(out);
  const outDecl = `@group(0) @binding(${inputs.length + 1}) var<storage, read_write> out: array<u32>;`;
  const epw = elementsPerWord(out);
  let store: string;
  if (out === 'f64') {
    store = 'if (t >= n) { return; } let w = f32_to_f64(value(t)); out[2u * t] = w.x; out[2u * t + 1u] = w.y;';
  } else if (epw === 1) {
    store = `if (t >= n) { return; } out[t] = ${encodeExpr(out, 'value(t)')};`;
  } else {
    const bits = 32 / epw;
    store = `let first = t * ${epw}u; if (first >= n) { return; }
  var word = 0u;
  for (var j = 0u; j < ${epw}u; j++) {
    let i = first + j;
    if (i < n) { word = word | (${encodeExpr(out, 'value(i)')} << (j * ${bits}u)); }
  }
  out[t] = word;`;
  }
  return `${INDEXING}
${CONVERSIONS}
${SCALAR_FUNCTIONS}
${decls}
${outDecl}
${loads}
${readsOutput ? loadFunction('old', 'out', out) : ''}
${functions ?? ''}
fn value(i: u32) -> ${ct} {
${value}
}
${ENTRY} {
  ${FLAT_ID}
  let n = p(0u);
  ${store}
}
`;
}

/** Invocations a map shader needs for `n` output elements of `out` (one per output word, or per f64 element). */
export function mapInvocations(out: DType, n: number): number {
  const epw = elementsPerWord(out);
  return epw >= 1 ? Math.ceil(n / epw) : n;
}
