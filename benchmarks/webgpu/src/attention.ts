// Causal attention forward + backward, fused vs unfused: the fused path is scaledDotProductAttention
// (attentionForward's kernel saves the log-sum-exp; the backward runs the attentionGradQ and
// attentionGradKV kernels, no (T, S) matrix in memory); the unfused path differentiates the op's
// decomposition primitive by primitive (QKᵀ, mask, softmax, ·V and their gradient rules), as training
// did before the fused kernels existed.
import type { WebGpuBackend } from '@tessera/kernels-webgpu';
import { valueAndGrad } from '@tessera/autograd';
import * as T from '@tessera/tensor';
import { timeGpu } from './timing.js';

/** One row: milliseconds of one forward+backward of causal attention (B, H, T=S, D), both ways. */
export interface AttentionRow {
  b: number;
  h: number;
  t: number;
  d: number;
  fusedMs: number;
  unfusedMs: number;
  /** unfusedMs / fusedMs */
  speedup: number;
}

/** Times causal attention forward+backward at each sequence length, fused and composed. */
export async function benchAttention(gpu: WebGpuBackend, b: number, h: number, lengths: readonly number[], d: number, opts: { samples: number; minSampleMs: number }): Promise<{ rows: AttentionRow[]; timing: string }> {
  const rows: AttentionRow[] = [];
  for (const t of lengths) {
    const [q, k, v] = [0, 1, 2].map(() => T.randn([b, h, t, d], { device: gpu.name }));
    const attrs: T.AttentionAttrs = { causal: true, scale: 1 / Math.sqrt(d), hasMask: false, dropoutP: 0, dropoutStream: undefined };
    const fused = valueAndGrad((q: T.Tensor, k: T.Tensor, v: T.Tensor) => T.sum(T.scaledDotProductAttention(q, k, v, undefined, { causal: true })));
    const unfused = valueAndGrad((q: T.Tensor, k: T.Tensor, v: T.Tensor) => T.sum(T.OPS.attention.decompose([q, k, v], attrs)));
    const time = (step: typeof fused) =>
      timeGpu(gpu, () => {
        const [value, grads] = step(q!, k!, v!);
        value.dispose();
        grads.forEach((g) => g.dispose());
      }, opts);
    const fusedMs = await time(fused);
    const unfusedMs = await time(unfused);
    console.log(`attention fwd+bwd causal (${b},${h},${t},${d}): fused ${fusedMs.toFixed(1)} ms, unfused composition ${unfusedMs.toFixed(1)} ms (${(unfusedMs / fusedMs).toFixed(2)}x)`);
    rows.push({ b, h, t, d, fusedMs, unfusedMs, speedup: unfusedMs / fusedMs });
    [q, k, v].forEach((x) => x!.dispose());
  }
  return { rows, timing: `median ms of one forward+backward (sum of the output as the loss) over ${opts.samples} sample(s) of at least ${opts.minSampleMs} ms, after a warm-up call` };
}
