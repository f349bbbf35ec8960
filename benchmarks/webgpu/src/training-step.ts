// Tokens per second of a small pre-norm transformer's training step (forward, backward, AdamW over
// every parameter at once through T.adamwSteps).
import type { WebGpuBackend } from '@tessera/kernels-webgpu';
import { valueAndGrad } from '@tessera/autograd';
import * as T from '@tessera/tensor';
import { timeGpu } from './timing.js';

/** The step's configuration. */
export interface StepConfig {
  vocab: number;
  dim: number;
  heads: number;
  layers: number;
  batch: number;
  seq: number;
}

function loss(cfg: StepConfig, ids: T.Tensor, targets: T.Tensor) {
  return (...p: T.Tensor[]): T.Tensor => {
    const { dim, heads, batch: b, seq: t } = cfg;
    const hd = dim / heads;
    const split = (y: T.Tensor) => T.transpose(y.reshape([b, t, heads, hd]), 1, 2);
    const { cos, sin } = T.rotaryTables(t, hd, { device: ids.device });
    let x = T.embedding(ids, p[0]!);
    for (let l = 0; l < cfg.layers; l++) {
      const [n1, wq, wk, wv, wo, n2, w1, w2] = p.slice(1 + 8 * l, 9 + 8 * l);
      const h = T.rmsNorm(x, n1);
      const q = T.applyRotary(split(T.matmul(h, wq!)), cos, sin);
      const k = T.applyRotary(split(T.matmul(h, wk!)), cos, sin);
      const att = T.transpose(T.scaledDotProductAttention(q, k, split(T.matmul(h, wv!)), undefined, { causal: true }), 1, 2).reshape([b, t, dim]);
      x = T.add(x, T.matmul(att, wo!));
      x = T.add(x, T.matmul(T.silu(T.matmul(T.rmsNorm(x, n2), w1!)), w2!));
    }
    return T.crossEntropy(T.matmul(T.rmsNorm(x, p.at(-2)), p.at(-1)!), targets);
  };
}

/** Tokens/s of one training step on `gpu`. */
export async function benchTrainingStep(gpu: WebGpuBackend, cfg: StepConfig): Promise<{ config: StepConfig; ms: number; tokensPerSec: number; cpuMs: number; tokensPerCpuSecond: number }> {
  const dev = gpu.name;
  const { vocab, dim, layers } = cfg;
  const shapes: number[][] = [[vocab, dim]];
  for (let l = 0; l < layers; l++) shapes.push([dim], [dim, dim], [dim, dim], [dim, dim], [dim, dim], [dim], [dim, 4 * dim], [4 * dim, dim]);
  shapes.push([dim], [dim, vocab]);
  let params = shapes.map((s) => (s.length === 1 ? T.ones(s, { device: dev }) : T.tidy(() => T.mul(T.randn(s, { device: dev }), 0.02))));
  let moments = params.flatMap((p) => [T.zerosLike(p), T.zerosLike(p)]);
  const ids = T.randint(0, vocab, [cfg.batch, cfg.seq], { device: dev });
  const targets = T.randint(0, vocab, [cfg.batch, cfg.seq], { device: dev });
  let n = 0;
  const cpu0 = process.cpuUsage();
  const ms = await timeGpu(gpu, () => {
    n++;
    const [value, grads] = valueAndGrad(loss(cfg, ids, targets))(...params);
    // All parameters in one call, as @tessera/optim's AdamW does: one multi-tensor AdamW dispatch.
    const next: { param: T.Tensor; m: T.Tensor; v: T.Tensor }[] = [];
    T.adamwSteps(
      params.map((p, i) => ({ param: p, grad: grads[i]!, m: moments[2 * i]!, v: moments[2 * i + 1]!, hyper: { lr: 1e-3, step: n } })),
      (i, r) => (next[i] = r),
    );
    [...params, ...moments, ...grads, value].forEach((t) => t.dispose());
    params = next.map((r) => r.param);
    moments = next.flatMap((r) => [r.m, r.v]);
  }, { samples: 3, minSampleMs: 300 });
  const cpu = process.cpuUsage(cpu0);
  // Per step, warm-up included; on a software adapter this is the work itself (see matmul.ts).
  const cpuMs = (cpu.user + cpu.system) / 1000 / n;
  [...params, ...moments, ids, targets].forEach((t) => t.dispose());
  const tokensPerSec = (cfg.batch * cfg.seq) / (ms / 1000);
  const tokensPerCpuSecond = (cfg.batch * cfg.seq) / (cpuMs / 1000);
  console.log(`training step ${JSON.stringify(cfg)}: ${ms.toFixed(1)} ms, ${tokensPerSec.toFixed(0)} tokens/s (${tokensPerCpuSecond.toFixed(0)} tokens per CPU-second)`);
  return { config: cfg, ms, tokensPerSec, cpuMs, tokensPerCpuSecond };
}
