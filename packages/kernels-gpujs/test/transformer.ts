// A 1-block pre-norm transformer (RMSNorm, causal RoPE attention, SiLU MLP, cross-entropy) from a
// seed: the model kernels-webgpu's training test uses, shared by the Node and browser tests here.
import * as T from '@tessera/tensor';
import type { Tensor } from '@tessera/tensor';
import { valueAndGrad } from '@tessera/autograd';
import { makeView } from './cross-backend.js';

/** Model sizes: vocabulary, width, MLP width, heads, batch, sequence length. */
export const SIZES = { vocab: 11, dim: 8, hidden: 12, heads: 2, batch: 2, seq: 5 } as const;

/** Parameters from fixed seeds (identical on every device). */
export function transformerParams(device: string): Tensor[] {
  const { vocab, dim, hidden } = SIZES;
  const shapes = [[vocab, dim], [dim], [dim, dim], [dim, dim], [dim, dim], [dim, dim], [dim], [dim, hidden], [hidden, dim], [dim], [dim, vocab]];
  return shapes.map((s, i) =>
    T.tidy(() => {
      const t = makeView(device, s, 'dense', 'f32', 1000 + i, 'unit');
      return s.length === 1 ? T.add(T.mul(t, 0.1), 1) : T.mul(t, 1 / Math.sqrt(s[0]!));
    }),
  );
}

/** Token ids and next-token targets, (B, T) i32. */
export function transformerBatch(device: string): [Tensor, Tensor] {
  const { vocab, batch, seq } = SIZES;
  const tokens = Array.from({ length: batch * seq }, (_, i) => (i * 7 + 3) % vocab);
  const next = Array.from({ length: batch * seq }, (_, i) => (i * 5 + 1) % vocab);
  return [T.tensor(tokens, { shape: [batch, seq], dtype: 'i32', device }), T.tensor(next, { shape: [batch, seq], dtype: 'i32', device })];
}

/** The mean next-token cross-entropy as a function of the parameters. */
export function transformerLoss(ids: Tensor, targets: Tensor): (...p: Tensor[]) => Tensor {
  const { heads } = SIZES;
  return (emb, n1, wq, wk, wv, wo, n2, w1, w2, nf, head) => {
    const [b, t] = ids.shape as [number, number];
    const dim = emb!.shape[1]!;
    const hd = dim / heads;
    const x = T.embedding(ids, emb!); // (B, T, C)
    const h = T.rmsNorm(x, n1);
    const split = (y: Tensor) => T.transpose(y.reshape([b, t, heads, hd]), 1, 2); // (B, H, T, D)
    const { cos, sin } = T.rotaryTables(t, hd, { device: ids.device });
    const q = T.applyRotary(split(T.matmul(h, wq!)), cos, sin);
    const k = T.applyRotary(split(T.matmul(h, wk!)), cos, sin);
    const v = split(T.matmul(h, wv!));
    const att = T.transpose(T.scaledDotProductAttention(q, k, v, undefined, { causal: true }), 1, 2).reshape([b, t, dim]);
    const x2 = T.add(x, T.matmul(att, wo!));
    const m = T.matmul(T.silu(T.matmul(T.rmsNorm(x2, n2), w1!)), w2!);
    const x3 = T.add(x2, m);
    const logits = T.matmul(T.rmsNorm(x3, nf), head!); // (B, T, V)
    return T.crossEntropy(logits, targets);
  };
}

/** Loss and gradients on `device`, read back and flattened (loss first); frees everything it made. */
export async function transformerLossAndGrads(device: string): Promise<number[]> {
  const params = transformerParams(device);
  const [ids, targets] = transformerBatch(device);
  const [loss, grads] = valueAndGrad(transformerLoss(ids, targets))(...params);
  const values: number[] = [];
  for (const t of [loss, ...grads]) values.push(...Array.from((await t.data()) as ArrayLike<number>));
  [loss, ...grads, ...params, ids, targets].forEach((t) => t.dispose());
  return values;
}

/**
 * Runs `steps` AdamW training steps of the transformer on `device`; returns each step's loss and the
 * live tensors and backend handles after the first and the last step (equal when nothing leaks).
 */
export async function trainTransformer(device: string, steps: number, liveHandles: () => number): Promise<{ losses: number[]; liveAfterFirst: [number, number]; liveAfterLast: [number, number] }> {
  const params = transformerParams(device);
  const moments = params.flatMap((p) => [T.zerosLike(p), T.zerosLike(p)]);
  const [ids, targets] = transformerBatch(device);
  const live = (): [number, number] => [T.memory().backends[device]?.numUndisposed ?? 0, liveHandles()];
  const losses: number[] = [];
  let liveAfterFirst: [number, number] = [0, 0];
  for (let step = 1; step <= steps; step++) {
    const [loss, grads] = valueAndGrad(transformerLoss(ids, targets))(...params);
    params.forEach((p, i) => {
      const r = T.adamwStep(p, grads[i]!, moments[2 * i]!, moments[2 * i + 1]!, { lr: 1e-2, step });
      [p, moments[2 * i]!, moments[2 * i + 1]!].forEach((t) => t.dispose());
      params[i] = r.param;
      moments[2 * i] = r.m;
      moments[2 * i + 1] = r.v;
    });
    grads.forEach((g) => g.dispose());
    losses.push(await loss.item());
    loss.dispose();
    if (step === 1) liveAfterFirst = live();
  }
  const liveAfterLast = live();
  [...params, ...moments, ids, targets].forEach((t) => t.dispose());
  return { losses, liveAfterFirst, liveAfterLast };
}
