// The generator behind every elementwise, broadcast, indexing and creation kernel: the kernel
// supplies `fn value(i: u32) -> T` (the output element at flat index i) and this wraps it into a
// shader where each invocation owns one output word, so packed outputs (f16, bf16, u8, bool) are
// written without atomics: an invocation computes the 2 or 4 elements sharing its word.
// A dispatch covers one piece of the output (binding-window.ts): a flat range of output words, or for
// unpacked outputs a box of the iteration shape; the output is written through a window whose first
// word the PIECE words give.
import type { DType } from '@tessera/tensor';
import { PIECE } from '../binding-window.js';
import { CONVERSIONS, computeType, elementsPerWord, encodeExpr, loadFunction } from './dtype-io.js';
import { ENTRY, INDEXING } from './indexing.js';
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
    store = 'if (t >= n) { return; } let w = f32_to_f64(value(t)); out[2u * t - sh] = w.x; out[2u * t + 1u - sh] = w.y;';
  } else if (epw === 1) {
    store = `if (t >= n) { return; } out[t - sh] = ${encodeExpr(out, 'value(t)')};`;
  } else {
    const bits = 32 / epw;
    store = `let first = t * ${epw}u; if (first >= n) { return; }
  var word = 0u;
  for (var j = 0u; j < ${epw}u; j++) {
    let i = first + j;
    if (i < n) { word = word | (${encodeExpr(out, 'value(i)')} << (j * ${bits}u)); }
  }
  out[t - sh] = word;`;
  }
  return `${INDEXING}
${CONVERSIONS}
${SCALAR_FUNCTIONS}
${decls}
${outDecl}
${loads}
${readsOutput ? loadFunction('old', 'out', out, `p(${PIECE.outShift}u)`) : ''}
${functions ?? ''}
fn value(i: u32) -> ${ct} {
${value}
}
// Output index (element, or word for packed outputs) of invocation number local of this piece.
fn piece_index(local: u32) -> u32 {
  if (p(${PIECE.box}u) == 0u) { return p(${PIECE.start}u) + local; }
  var rem = local;
  var i = 0u;
  var scale = 1u;
  for (var d = i32(p(1u)) - 1; d >= 0; d--) {
    let ud = u32(d);
    let len = p(${PIECE.len}u + ud);
    i = i + (p(${PIECE.lo}u + ud) + rem % len) * scale;
    rem = rem / len;
    scale = scale * p(4u + ud);
  }
  return i;
}
${ENTRY} {
  let local = (wid.x + wid.y * nwg.x) * 64u + lidx;
  if (local >= p(${PIECE.count}u)) { return; }
  let t = piece_index(local);
  let n = p(0u);
  let sh = p(${PIECE.outShift}u);
  ${store}
}
`;
}

/** Invocations a map shader needs for `n` output elements of `out` (one per output word, or per f64 element). */
export function mapInvocations(out: DType, n: number): number {
  const epw = elementsPerWord(out);
  return epw >= 1 ? Math.ceil(n / epw) : n;
}
