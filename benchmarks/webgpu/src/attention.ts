// Causal attention forward + backward. No fused attention kernel exists yet, so this times the
// composition of primitives (QKᵀ, mask, softmax, ·V) that a fused kernel would replace.
import type { WebGpuBackend } from '@tessera/kernels-webgpu';
import { valueAndGrad } from '@tessera/autograd';
import * as T from '@tessera/tensor';
import { timeGpu } from './timing.js';

/** Milliseconds of one forward+backward of causal attention of shape (B, H, T, D). */
export async function benchAttention(gpu: WebGpuBackend, b: number, h: number, t: number, d: number): Promise<{ shape: number[]; unfusedMs: number; fusedMs: null }> {
  const [q, k, v] = [0, 1, 2].map(() => T.randn([b, h, t, d], { device: gpu.name }));
  const step = valueAndGrad((q: T.Tensor, k: T.Tensor, v: T.Tensor) => T.sum(T.scaledDotProductAttention(q, k, v, undefined, { causal: true })));
  const unfusedMs = await timeGpu(gpu, () => {
    const [value, grads] = step(q!, k!, v!);
    value.dispose();
    grads.forEach((g) => g.dispose());
  }, { samples: 3, minSampleMs: 200 });
  console.log(`attention fwd+bwd (${b},${h},${t},${d}): ${unfusedMs.toFixed(1)} ms (composition of primitives)`);
  [q, k, v].forEach((x) => x!.dispose());
  return { shape: [b, h, t, d], unfusedMs, fusedMs: null };
}
