// WebGL devices without float render targets make gpu.js fall back to 8-bit ("unsigned") packing,
// and devices whose fragment shaders only have mediump floats compute in half precision; both would
// silently give wrong gradients. The check runs one kernel that single precision gets right and half
// precision cannot: (1 + 2^-20) - 1, stored and read back through the same path every op uses.
import type { GpuJsContext } from './gpujs-context.js';

const PROBE = 2 ** -20;

/** Throws unless kernels in this context compute and store single-precision floats. */
export async function checkSinglePrecision(ctx: GpuJsContext): Promise<void> {
  const h = ctx.run({ source: 'function(m) {\nreturn (m[0] + m[1] * (this.thread.x * 1.0)) - 1.0;\n}', size: 2, args: [Float32Array.of(1 + PROBE, 0)] });
  const values = await ctx.read(h);
  ctx.free(h);
  const kernel = [...ctx.kernels.values()][0] as unknown as { kernel?: { precision?: string } } | undefined;
  const precision = kernel?.kernel?.precision;
  if (values[0] !== PROBE || (precision !== undefined && precision !== null && precision !== 'single')) {
    throw new Error(
      `gpujs: the ${ctx.actualMode || ctx.mode} device computes below single precision ` +
        `(gpu.js precision '${precision}', (1 + 2^-20) - 1 came back as ${values[0]}; expected ${PROBE}): it lacks float textures or highp fragment floats, ` +
        'so training would silently lose accuracy; use the WebGPU or cpu backend on this device',
    );
  }
}
