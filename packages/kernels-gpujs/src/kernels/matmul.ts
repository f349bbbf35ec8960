// Batched matmul over strided operands: a transposed operand is only other strides, so no copy is
// made. One thread per output element runs the K loop four products at a time. gpu.js exposes no
// workgroup (shared) memory on any of its GL back ends, so tiles cannot be staged on chip as the WebGPU
// kernel does; reuse comes from the texture cache instead.
import { numel } from '@tessera/tensor';
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

/** a (..., M, K) @ b (..., K, N) -> (..., M, N), batch dims broadcast. */
export const matmulKernel: GpuJsKernel = (ctx, [a, b], _attrs, out) => {
  const k = a!.shape.at(-1)!;
  const m = new MetaTable();
  m.dims(out.shape, 'matmul');
  // a varies with the output's M coordinate, b with its N coordinate; K is the loop.
  m.layout({ shape: [...a!.shape.slice(0, -1), 1], strides: [...a!.strides.slice(0, -1), 0], offset: a!.offset }, out.shape, 'matmul');
  m.layout({ shape: [...b!.shape.slice(0, -2), 1, b!.shape.at(-1)!], strides: [...b!.strides.slice(0, -2), 0, b!.strides.at(-1)!], offset: b!.offset }, out.shape, 'matmul');
  m.push(k, a!.strides.at(-1)!, b!.strides.at(-2)!, Math.floor(k / 4), k % 4);
  return ctx.run({ source: SOURCE, size: numel(out.shape), args: [handleOf(a!), handleOf(b!), m.toArray()] });
};
