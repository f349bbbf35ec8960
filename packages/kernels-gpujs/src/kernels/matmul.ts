// Batched matmul over strided operands: a transposed operand is only other strides, so no copy is
// made. gpu.js exposes no workgroup (shared) memory on any back end: a kernel is one function per
// output element (a fragment shader on WebGL, where GLSL ES has no shared memory or barriers at all),
// and gpu.js's WebGPU mode generates no var<workgroup> either, so tiles cannot be staged on chip as the
// WebGPU kernel does. Two register-level forms instead:
// - one output per thread, the K loop four products at a time (cpu and WebGPU modes);
// - on WebGL, four adjacent outputs per thread (an Array(4) result: each A element is loaded once for
//   four products), then a pass unpacking the vec4s into the flat output. Measured faster in Chromium
//   (SwiftShader, n = 128/256/512, product read back): WebGL2 0.24/0.31/0.31 -> 0.32/0.45/0.46 GFLOP/s,
//   WebGL 1 0.24/0.27/0.23 -> 0.31/0.41/0.35 (README). gpu.js's WebGPU mode cannot take an Array(4) result as a
//   kernel argument ("does not yet support Array(4) pipeline results"), so it keeps the first form.
import { numel } from '@tessera/tensor';
import type { OutputSpec, TensorView } from '@tessera/tensor';
import type { GpuJsContext, Handle } from '../gpujs-context.js';
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { handleOf } from '../gpujs-kernel.js';
import { MAX_RANK, MetaTable, OUTPUT_COORDS, indexCode, kernelSource } from '../kernel-source.js';

// Table: output dims at 0, a's layout at R, b's at 2R+1, then K, a's K step, b's K step, K / 4, K % 4.
const kAt = 3 * MAX_RANK + 2;
const SOURCE = kernelSource(
  2,
  [
    OUTPUT_COORDS,
    indexCode('ia', MAX_RANK, 'c'),
    indexCode('ib', 2 * MAX_RANK + 1, 'c'),
    `let sa = m[${kAt + 1}];`,
    `let sb = m[${kAt + 2}];`,

    'let acc = 0.0;',
    // Loop bounds are table reads: gpu.js turns those into the bounded loops GLSL ES 1.0 requires.
    `for (let k = 0; k < m[${kAt + 3}]; k++) {`,
    'let kk = k * 4.0;',
    'acc = acc + x0[ia + kk * sa] * x1[ib + kk * sb] + x0[ia + (kk + 1.0) * sa] * x1[ib + (kk + 1.0) * sb] + x0[ia + (kk + 2.0) * sa] * x1[ib + (kk + 2.0) * sb] + x0[ia + (kk + 3.0) * sa] * x1[ib + (kk + 3.0) * sb];',
    '}',
    `for (let r = 0; r < m[${kAt + 4}]; r++) {`,
    `let kr = m[${kAt + 3}] * 4.0 + r * 1.0;`,
    'acc = acc + x0[ia + kr * sa] * x1[ib + kr * sb];',
    '}',
    'return acc;',
  ].join('\n'),
);

// Four outputs per thread. Table: tiled output dims (last = ceil(N / 4)) at 0, a's layout at R, b's at
// 2R+1 (its N stride times 4: tile c5 starts at column 4·c5), then K, a's K step, b's K step, N, b's
// N stride. Columns past N read column N-1 (their sums are dropped by the unpack).
const tAt = 3 * MAX_RANK + 2;
const TILED_SOURCE = kernelSource(
  2,
  [
    OUTPUT_COORDS,
    indexCode('ia', MAX_RANK, 'c'),
    indexCode('ib', 2 * MAX_RANK + 1, 'c'),
    `let sa = m[${tAt + 1}];`,
    `let sb = m[${tAt + 2}];`,
    `let col = c${MAX_RANK - 1} * 4.0;`,
    `let last = m[${tAt + 3}] - 1.0;`,
    `let sn = m[${tAt + 4}];`,
    'let d1 = (Math.min(col + 1.0, last) - col) * sn;',
    'let d2 = (Math.min(col + 2.0, last) - col) * sn;',
    'let d3 = (Math.min(col + 3.0, last) - col) * sn;',
    'let acc0 = 0.0;',
    'let acc1 = 0.0;',
    'let acc2 = 0.0;',
    'let acc3 = 0.0;',
    `for (let k = 0; k < m[${tAt}]; k++) {`,
    'let kf = k * 1.0;',
    'let av = x0[ia + kf * sa];',
    'let bk = ib + kf * sb;',
    'acc0 = acc0 + av * x1[bk];',
    'acc1 = acc1 + av * x1[bk + d1];',
    'acc2 = acc2 + av * x1[bk + d2];',
    'acc3 = acc3 + av * x1[bk + d3];',
    '}',
    'return [acc0, acc1, acc2, acc3];',
  ].join('\n'),
);

// Output element t of rows of N: component t mod 4 of vec4 (row · ceil(N / 4) + col / 4). Table: N,
// ceil(N / 4). Components are read into names first: gpu.js indexes a vec4 only through a variable.
const UNPACK_SOURCE = kernelSource(
  1,
  [
    'let t = this.thread.x * 1.0;',
    'let row = Math.floor((t + 0.5) / m[0]);',
    'let col = t - row * m[0];',
    'let q = Math.floor((col + 0.5) / 4.0);',
    'let lane = col - q * 4.0;',
    'let v = x0[row * m[1] + q];',
    'let r = v[0];',
    'let r1 = v[1];',
    'let r2 = v[2];',
    'let r3 = v[3];',
    'if (lane > 0.5) { r = r1; }',
    'if (lane > 1.5) { r = r2; }',
    'if (lane > 2.5) { r = r3; }',
    'return r;',
  ].join('\n'),
);

/** True where four outputs per thread were measured faster and gpu.js can chain Array(4) results: WebGL. */
const tiles = (ctx: GpuJsContext): boolean => ctx.actualMode === 'webgl2' || ctx.actualMode === 'webgl';

/** a (..., M, K) @ b (..., K, N) -> (..., M, N), batch dims broadcast. */
export const matmulKernel: GpuJsKernel = (ctx, [a, b], _attrs, out) => {
  const k = a!.shape.at(-1)!;
  const n = out.shape.at(-1)!;
  if (tiles(ctx) && n >= 4 && numel(out.shape) > 0) return tiledMatmul(ctx, a!, b!, out, k, n);
  const m = new MetaTable();
  m.dims(out.shape, 'matmul');
  // a varies with the output's M coordinate, b with its N coordinate; K is the loop.
  m.layout({ shape: [...a!.shape.slice(0, -1), 1], strides: [...a!.strides.slice(0, -1), 0], offset: a!.offset }, out.shape, 'matmul');
  m.layout({ shape: [...b!.shape.slice(0, -2), 1, b!.shape.at(-1)!], strides: [...b!.strides.slice(0, -2), 0, b!.strides.at(-1)!], offset: b!.offset }, out.shape, 'matmul');
  m.push(k, a!.strides.at(-1)!, b!.strides.at(-2)!, Math.floor(k / 4), k % 4);
  return ctx.run({ source: SOURCE, size: numel(out.shape), args: [handleOf(a!), handleOf(b!), m.toArray()] });
};

function tiledMatmul(ctx: GpuJsContext, a: TensorView, b: TensorView, out: OutputSpec, k: number, n: number): Handle {
  const q = Math.ceil(n / 4);
  const tiled = [...out.shape.slice(0, -1), q];
  const m = new MetaTable();
  m.dims(tiled, 'matmul');
  m.layout({ shape: [...a.shape.slice(0, -1), 1], strides: [...a.strides.slice(0, -1), 0], offset: a.offset }, tiled, 'matmul');
  // b's N dim keeps its place in the layout (size q, stride 4·sN); a size-1 N would broadcast, but n >= 4 here.
  m.layout({ shape: [...b.shape.slice(0, -2), 1, q], strides: [...b.strides.slice(0, -2), 0, 4 * b.strides.at(-1)!], offset: b.offset }, tiled, 'matmul');
  m.push(k, a.strides.at(-1)!, b.strides.at(-2)!, n, b.strides.at(-1)!);
  const threads = numel(tiled);
  const packed = ctx.run({ source: TILED_SOURCE, size: threads, args: [handleOf(a), handleOf(b), m.toArray()], returns: 'Array(4)', logicalSize: 4 * threads });
  const result = ctx.run({ source: UNPACK_SOURCE, size: numel(out.shape), args: [packed, Float32Array.from([n, q])], returns: 'Number' });
  ctx.free(packed);
  return result;
}
