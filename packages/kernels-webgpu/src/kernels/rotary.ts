// Fused rotary embedding (Hugging Face's rotate-half layout) forward and backward with respect to x:
// one map invocation per output element reads its own element and its partner half a row away, with
// cos and sin broadcast through their strides; no rotated copy, no concat, no temporaries. Splits over
// binding windows like every map kernel. Held to the decompositions by test/fused-backward-properties.ts
// and, over 4 KiB bindings, by test/attention-windows.gpu.test.ts.
import type { GpuKernel } from '../gpu-kernel.js';
import { runMap } from '../map-dispatch.js';
import { convertExpr } from '../wgsl/dtype-io.js';
import { broadcastStrides, operandBase } from '../wgsl/indexing.js';

/**
 * Forward: y[k] = x[k] cos[k] + rotateHalf(x)[k] sin[k] (rotateHalf: first half -x2, second x1).
 * Backward (inputs dy, cos, sin): dx[k] = dy[k] cos[k] + (first half: +dy[p] sin[p]; second: -dy[p] sin[p]),
 * p the partner index k ± D/2.
 */
function rotaryKernel(backward: boolean): GpuKernel<undefined> {
  const name = backward ? 'rotaryBackward' : 'rotary';
  return (ctx, [a, cos, sin], _attrs, out) => {
    const shape = out.shape;
    const d = shape[shape.length - 1] ?? 0;
    if (shape.length === 0 || d % 2 !== 0) throw new RangeError(`${name}: the last dim must be even on webgpu (got [${shape.join(',')}])`);
    const views = [a!, cos!, sin!];
    const strides = views.map((v) => broadcastStrides(v, shape));
    const ld = (k: number, e: string) => convertExpr(`in${k}(${e})`, views[k]!.dtype, 'f32');
    // The element of operand k at the partner column: its own offset moved by (partner - k) columns (wrapping u32).
    const at = (k: number, partner: boolean) => {
      const base = operandBase(k);
      return partner ? `offset_of(${base}u, i) + pk * p(${base + 1}u + r) - k * p(${base + 1}u + r)` : `offset_of(${base}u, i)`;
    };
    const value = backward
      ? `${ld(0, at(0, false))} * ${ld(1, at(1, false))} + select(-1.0, 1.0, lo) * ${ld(0, at(0, true))} * ${ld(2, at(2, true))}`
      : `${ld(0, at(0, false))} * ${ld(1, at(1, false))} + select(1.0, -1.0, lo) * ${ld(0, at(0, true))} * ${ld(2, at(2, false))}`;
    return runMap(ctx, {
      key: `${name}:${views.map((v) => v.dtype).join(',')}:${out.dtype}`,
      spec: {
        inputs: views.map((v) => v.dtype),
        out: out.dtype,
        value: `let r = p(1u) - 1u;
  let k = coord(i, r);
  let half = p(4u + r) / 2u;
  let lo = k < half;
  let pk = select(k - half, k + half, lo);
  return ${convertExpr(`(${value})`, 'f32', out.dtype)};`,
      },
      shape,
      inputs: views,
      strides,
      // Each element's partner lies half a row away: over binding windows an input is read up to
      // that far either side of the element at the output's own position.
      windows: strides.map((st) => {
        const reach = (d / 2) * Math.abs(st[st.length - 1]!);
        return { extent: [-reach, reach] as const };
      }),
      where: name,
    });
  };
}

/** x * cos + rotateHalf(x) * sin. */
export const rotaryForwardKernel = rotaryKernel(false);
/** dy * cos + rotateHalfᵀ(dy * sin). */
export const rotaryBackwardKernel = rotaryKernel(true);
