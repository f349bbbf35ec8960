import { NF4_CODE } from '@tessera/tensor';
import type { GpuContext } from '../gpu-context.js';

/** The 16 NF4 levels as a WGSL array expression, shared by the NF4 shaders. */
export const NF4_LEVELS_WGSL = `array<f32, 16>(${NF4_CODE.map((v) => v.toPrecision(9)).join(', ')})`;

// The 256-entry double-quantisation scale code as a storage buffer, one per code array and device,
// shared by nf4Dequantize and the fused nf4Matmul (a model has a single code array of a few KiB).
const codes = new WeakMap<GpuContext, WeakMap<readonly number[], GPUBuffer>>();

/** The storage buffer holding `code` on `ctx`'s device, uploaded once. */
export function scaleCodeBuffer(ctx: GpuContext, code: readonly number[]): GPUBuffer {
  let perCtx = codes.get(ctx);
  if (!perCtx) codes.set(ctx, (perCtx = new WeakMap()));
  let buffer = perCtx.get(code);
  if (!buffer) {
    buffer = ctx.device.createBuffer({ size: Math.max(4, code.length * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    ctx.device.queue.writeBuffer(buffer, 0, Float32Array.from(code));
    perCtx.set(code, buffer);
  }
  return buffer;
}
