// The fused AdamW update behind Backend.adamwUpdate: new m, new v, then the new parameter from them,
// three elementwise launches with the arithmetic of @tessera/tensor's adamwStep composition.
import type { AdamWResolved, TensorView } from '@tessera/tensor';
import type { GpuJsContext, Handle } from '../gpujs-context.js';
import { viewOfHandle } from '../gpujs-kernel.js';
import { launchMap } from './map.js';

/** New param, m and v handles; null unless all four operands are f32 (other dtypes compose ops). */
export function adamwUpdateHandles(ctx: GpuJsContext, param: TensorView, grad: TensorView, m: TensorView, v: TensorView, h: AdamWResolved): { param: Handle; m: Handle; v: Handle } | null {
  if ([param, grad, m, v].some((t) => t.dtype !== 'f32')) return null;
  const shape = param.shape;
  const m2 = launchMap(ctx, 'adamw', [m, grad], shape, 'P0 * v0 + P1 * v1', [h.beta1, 1 - h.beta1]);
  const v2 = launchMap(ctx, 'adamw', [v, grad], shape, 'P0 * v0 + P1 * (v1 * v1)', [h.beta2, 1 - h.beta2]);
  const p2 = launchMap(ctx, 'adamw', [param, viewOfHandle(m2, shape), viewOfHandle(v2, shape)], shape, 'v0 * P0 - (v1 / (Math.sqrt(v2) / P1 + P2)) * P3', [
    1 - h.lr * h.weightDecay,
    Math.sqrt(h.bc2),
    h.eps,
    h.lr / h.bc1,
  ]);
  return { param: p2, m: m2, v: v2 };
}
