// Matmul with an operand or a result larger than one binding (a tied lm_head over a big embedding
// table, and its gradients): the product is cut into boxes of (M, N, K) whose operand windows fit
// (binding-window.ts), each box runs the ordinary matmul kernel on 2-D views read through windows
// into a temporary of at most one binding, and a map pass places the temporary into the result,
// adding it on for the second and later pieces of K. Products that fit go straight to the kernel.
import { broadcastShapes, type TensorView } from '@tessera/tensor';
import { boxesOf, boxSpan, planBoxLengths, viewThrough, windowOf } from '../binding-window.js';
import type { GpuKernel } from '../gpu-kernel.js';
import { bufferOf, bufferView, runMap, viewWith } from '../map-dispatch.js';
import { storageBytes } from '../wgsl/dtype-io.js';
import { operandBase } from '../wgsl/indexing.js';

/** `inner` (a matmul kernel) made to split products whose operands or result exceed a binding. */
export function windowedMatmul(inner: GpuKernel): GpuKernel {
  return (ctx, [a, b], attrs, out) => {
    const m = a!.shape.at(-2)!;
    const k = a!.shape.at(-1)!;
    const n = b!.shape.at(-1)!;
    const batch = broadcastShapes(a!.shape.slice(0, -2), b!.shape.slice(0, -2), 'matmul');
    const batches = batch.reduce((x, y) => x * y, 1);
    const [ab, bb] = [bufferOf(a!), bufferOf(b!)];
    const outBytes = storageBytes(out.dtype, batches * m * n);
    const limit = ctx.maxBindingBytes;
    if ((ab.size <= limit && bb.size <= limit && outBytes <= limit) || batches * m * n === 0 || k === 0) return inner(ctx, [a!, b!], attrs, out);
    const [aSM, aSK] = a!.strides.slice(-2) as [number, number];
    const [bSK, bSN] = b!.strides.slice(-2) as [number, number];
    const len = planBoxLengths(ctx, [m, n, k], [
      { strides: [aSM, 0, aSK], dtype: a!.dtype, whole: ab.size <= limit },
      { strides: [0, bSN, bSK], dtype: b!.dtype, whole: bb.size <= limit },
      // The temporary of a box is contiguous (mc × nc); the result's own strides bound its span.
      { strides: [n, 1, 0], dtype: out.dtype, whole: outBytes <= limit },
    ]);
    const aBatch = batchStrides(a!, batch);
    const bBatch = batchStrides(b!, batch);
    const result = ctx.acquire(outBytes);
    for (let bi = 0; bi < batches; bi++) {
      let aOff = a!.offset;
      let bOff = b!.offset;
      let rem = bi;
      for (let d = batch.length - 1; d >= 0; d--) {
        const c = rem % batch[d]!;
        rem = Math.floor(rem / batch[d]!);
        aOff += c * aBatch[d]!;
        bOff += c * bBatch[d]!;
      }
      for (const { lo, len: l } of boxesOf([m, n, k], len)) {
        const [m0, n0, k0] = lo as [number, number, number];
        const [mc, nc, kc] = l as [number, number, number];
        const aView = viewWith(a!, { shape: [mc, kc], strides: [aSM, aSK], offset: aOff + m0 * aSM + k0 * aSK });
        const bView = viewWith(b!, { shape: [kc, nc], strides: [bSK, bSN], offset: bOff + k0 * bSK + n0 * bSN });
        const aWin = windowOf(ctx, ab, a!.dtype, ...boxSpan(aView.offset, aView.strides, [0, 0], [mc, kc]))!;
        const bWin = windowOf(ctx, bb, b!.dtype, ...boxSpan(bView.offset, bView.strides, [0, 0], [kc, nc]))!;
        const tmp = inner(ctx, [viewThrough(aView, aWin), viewThrough(bView, bWin)], attrs, { shape: [mc, nc], dtype: out.dtype });
        const first = k0 === 0;
        // The temporary read at the result's coordinates: element (r, c) of the box is (r - row0) * nc + (c - n0).
        const row0 = bi * m + m0;
        runMap(ctx, {
          key: `matmul-place:${out.dtype}:${first ? 'set' : 'add'}`,
          spec: {
            inputs: [out.dtype],
            out: out.dtype,
            value: first ? `return in0(offset_of(${operandBase(0)}u, i));` : `return old(i) + in0(offset_of(${operandBase(0)}u, i));`,
            readsOutput: !first,
          },
          shape: [batches * m, n],
          inputs: [bufferView(tmp, out.dtype, [mc, nc], [nc, 1], -(row0 * nc + n0))],
          strides: [[nc, 1]],
          windows: ['strided'],
          box: { lo: [row0, n0], len: [mc, nc] },
          into: result,
          where: 'matmul',
        });
        ctx.release(tmp);
      }
    }
    return result;
  };
}

/** Strides of `v` over the broadcast batch dims (0 where it broadcasts). */
function batchStrides(v: TensorView, batch: readonly number[]): number[] {
  const lead = batch.length - (v.shape.length - 2);
  return batch.map((_, i) => (i < lead || v.shape[i - lead] === 1 ? 0 : v.strides[i - lead]!));
}
