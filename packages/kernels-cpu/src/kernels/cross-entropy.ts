// Fused per-position cross-entropy and its logits gradient (composites of @tessera/tensor): each row
// of logits is read two or three times in double precision, and neither log-probabilities nor
// softmax are materialised (the decomposition holds several (..., C) temporaries).
import { fmtShape, numel, type CrossEntropyRowAttrs, type TensorView } from '@tessera/tensor';
import { dataOf, type CpuKernel } from '../cpu-kernel.js';
import { resultArray } from '../f32-array-pool.js';
import { indexOutOfRange } from '../index-check.js';
import { forEachLane } from '../lane-walk.js';
import { broadcastStrides, denseStrides } from '../strided.js';
import { laneMax, laneSumExp, type SumExp } from './softmax.js';

/** Strides over the logits' shape for a (...)-shaped operand: its own strides, 0 along the class dim. */
function rowStrides(view: TensorView, logitsShape: readonly number[]): number[] {
  return [...broadcastStrides(view, logitsShape.slice(0, -1)), 0];
}

/** The target of a row, checked against the class count unless it is the ignored index (then -1). */
export function targetOf(targets: ArrayLike<number>, k: number, flat: number, shape: readonly number[], c: number, ignoreIndex: number): number {
  const t = targets[k]!;
  if (t === ignoreIndex) return -1;
  if (!(t >= 0 && t < c)) indexOutOfRange('crossEntropy', t, flat, shape, shape.length, c);
  return t;
}

/** Per-position losses: lse - (1 - s) x[t] - s mean(x), 0 where the target is ignored. */
export const crossEntropyLossesKernelWith = (sumExp: SumExp): CpuKernel<CrossEntropyRowAttrs> => ([logits, targets], { ignoreIndex, labelSmoothing: s }, out) => {
  const shape = logits!.shape;
  const axis = shape.length - 1;
  const c = shape[axis]!;
  if (c === 0 && numel(out.shape) > 0) {
    throw new RangeError(`crossEntropy: logits ${fmtShape(shape)} have no classes; the log-softmax over an empty class dim is undefined`);
  }
  const x = dataOf(logits!);
  const tg = dataOf(targets!);
  const dst = resultArray(out.dtype, numel(out.shape));
  const strides = [[...denseStrides(out.shape), 0], logits!.strides, rowStrides(targets!, shape)];
  const sx = logits!.strides[axis]!;
  forEachLane(shape, axis, strides, [0, logits!.offset, targets!.offset], ([o, i, k]) => {
    const t = targetOf(tg, k!, o!, out.shape, c, ignoreIndex);
    const m = laneMax(x, i!, sx, c);
    const lse = m + Math.log(sumExp(x, i!, sx, c, m));
    // An ignored row gathers class 0 and is then multiplied by 0, as the decomposition does (NaN stays NaN).
    let loss = lse - x[i! + Math.max(t, 0) * sx]!;
    if (s > 0) {
      let total = 0;
      for (let j = 0, q = i!; j < c; j++, q += sx) total += x[q]!;
      loss = loss * (1 - s) + (lse - total / c) * s;
    }
    dst[o!] = t < 0 ? loss * 0 : loss;
  });
  return dst;
};

/** Logits gradient: (softmax(x) - q) * g where valid, q = (1 - s) onehot(t) + s / C. */
export const crossEntropyBackwardKernelWith = (sumExp: SumExp): CpuKernel<CrossEntropyRowAttrs> => ([logits, targets, g], { ignoreIndex, labelSmoothing: s }, out) => {
  const shape = logits!.shape;
  const axis = shape.length - 1;
  const c = shape[axis]!;
  const x = dataOf(logits!);
  const tg = dataOf(targets!);
  const gd = dataOf(g!);
  const dst = resultArray(out.dtype, numel(out.shape));
  const rows = shape.slice(0, -1);
  const strides = [denseStrides(shape), logits!.strides, rowStrides(targets!, shape), rowStrides(g!, shape)];
  const sx = logits!.strides[axis]!;
  const off = s / c;
  forEachLane(shape, axis, strides, [0, logits!.offset, targets!.offset, g!.offset], ([o, i, k, r]) => {
    const t = targetOf(tg, k!, o! / c, rows, c, ignoreIndex);
    const scale = t < 0 ? gd[r!]! * 0 : gd[r!]!;
    const safe = Math.max(t, 0);
    const m = laneMax(x, i!, sx, c);
    const inv = 1 / sumExp(x, i!, sx, c, m);
    for (let j = 0, p = o!, q = i!; j < c; j++, p++, q += sx) {
      const target = (j === safe ? 1 - s : 0) + off;
      dst[p] = (Math.exp(x[q]! - m) * inv - target) * scale;
    }
  });
  return dst;
};

// The kernels with the plain TypeScript lane sum (the registry's; a backend with WebAssembly swaps in softmax-wasm.ts's).
export const crossEntropyLossesKernel = crossEntropyLossesKernelWith(laneSumExp);
export const crossEntropyBackwardKernel = crossEntropyBackwardKernelWith(laneSumExp);
