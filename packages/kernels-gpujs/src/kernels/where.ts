// where: one elementwise map launch selecting between two inputs. A bool condition arrives as the
// 0/1 values of the dispatcher's widening cast (kernels compute in f32 only).
import type { GpuJsKernel } from '../gpujs-kernel.js';
import { launchMap } from './map.js';

/** where(cond, a, b): a where cond is nonzero, else b (all three broadcast). */
export const whereKernel: GpuJsKernel = (ctx, [c, a, b], _attrs, out) =>
  launchMap(ctx, 'where', [c!, a!, b!], out.shape, 'wr', [], 'let wr = v2;\nif (v0 != 0.0) { wr = v1; }');
