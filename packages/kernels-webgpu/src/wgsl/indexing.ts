// Shapes and strides reach every shader as uniform words, so one compiled pipeline serves every
// shape. The layout of those words, shared by the elementwise, indexing and cast kernels:
//   [0] element count   [1] rank   [2..3] free for the kernel
//   [4 .. 4+MAX_RANK)   the iteration shape
//   per operand k, from operandBase(k): its offset, then MAX_RANK strides (wrapping u32: negative ok)
//   kernel-specific words from extraBase(operands)
import type { Shape } from '@tessera/tensor';

/** Highest rank a shader indexes directly (views of higher rank are collapsed first). */
export const MAX_RANK = 8;

/** Word index of operand k's offset (its strides follow). */
export function operandBase(k: number): number {
  return 4 + MAX_RANK + k * (MAX_RANK + 1);
}

/** First word free for a kernel's own parameters after `operands` operands. */
export function extraBase(operands: number): number {
  return operandBase(operands);
}

/** Writes count, rank, shape and each operand's offset + strides into `params`. */
export function writeLayout(params: Uint32Array, shape: Shape, operands: readonly { offset: number; strides: readonly number[] }[], where: string): void {
  if (shape.length > MAX_RANK) throw new RangeError(`${where}: rank ${shape.length} exceeds the webgpu backend's ${MAX_RANK}; reshape to fewer dims`);
  params[0] = shape.reduce((a, b) => a * b, 1);
  params[1] = shape.length;
  shape.forEach((d, i) => (params[4 + i] = d));
  operands.forEach(({ offset, strides }, k) => {
    const base = operandBase(k);
    params[base] = offset;
    strides.forEach((s, i) => (params[base + 1 + i] = s >>> 0));
  });
}

/** WGSL: the uniform block, its word accessor and the strided-offset walkers. */
export const INDEXING = /* wgsl */ `
struct Params { w: array<vec4<u32>, 32> }
@group(0) @binding(0) var<uniform> params: Params;
fn p(i: u32) -> u32 { return params.w[i >> 2u][i & 3u]; }
fn pf(i: u32) -> f32 { return bitcast<f32>(p(i)); }
// Storage offset of flat output element i for the operand whose words start at base.
fn offset_of(base: u32, i: u32) -> u32 {
  var rem = i;
  var off = p(base);
  for (var d = i32(p(1u)) - 1; d >= 0; d--) {
    let s = p(4u + u32(d));
    off = off + (rem % s) * p(base + 1u + u32(d));
    rem = rem / s;
  }
  return off;
}
// Coordinate of flat element i along dim d of the iteration shape.
fn coord(i: u32, d: u32) -> u32 {
  var rem = i;
  for (var k = i32(p(1u)) - 1; k > i32(d); k--) { rem = rem / p(4u + u32(k)); }
  return rem % p(4u + d);
}
`;

/** WGSL: the flat invocation index over a 1-D dispatch spread across x and y. */
export const FLAT_ID = 'let t = (wid.x + wid.y * nwg.x) * 64u + lidx;';
/** WGSL: the entry point's builtins matching FLAT_ID. */
export const ENTRY = '@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32)';

/** Strides of `view` aligned to `shape` for broadcasting: leading and size-1 dims get stride 0. */
export function broadcastStrides(view: { shape: Shape; strides: readonly number[] }, shape: Shape): number[] {
  const lead = shape.length - view.shape.length;
  const out = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < view.shape.length; i++) if (view.shape[i] !== 1) out[lead + i] = view.strides[i]!;
  return out;
}
