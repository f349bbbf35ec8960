// End-to-end: small models trained with AdamW through the engine reach a loss threshold, and a
// training step leaves exactly as many live tensors as it found.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Generator,
  adamwStep,
  applyRotary,
  crossEntropy,
  embedding,
  full,
  matmul,
  memory,
  mul,
  randint,
  randn,
  registerBackend,
  relu,
  reshape,
  rmsNorm,
  rotaryTables,
  scaledDotProductAttention,
  silu,
  tensor,
  tidy,
  transpose,
  add,
  zerosLike,
  type Tensor,
} from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { backward, zeroGrad } from '../src/index.js';

beforeAll(() => {
  registerBackend(createCpuBackend());
});

/** Parameters plus AdamW state, updated in place of the old tensors (which are disposed). */
class AdamW {
  m: Tensor[];
  v: Tensor[];
  step = 0;
  constructor(public params: Tensor[], private lr: number, private weightDecay = 0) {
    this.m = params.map((p) => zerosLike(p));
    this.v = params.map((p) => zerosLike(p));
  }
  update(): void {
    this.step++;
    this.params.forEach((p, i) => {
      const next = adamwStep(p, p.grad!, this.m[i]!, this.v[i]!, { lr: this.lr, step: this.step, weightDecay: this.weightDecay });
      // assign keeps the parameter objects (the model holds them) and takes over the new memory.
      p.assign(next.param);
      this.m[i]!.assign(next.m);
      this.v[i]!.assign(next.v);
      for (const t of [next.param, next.m, next.v]) t.dispose();
    });
  }
}

function init(shape: number[], scale: number, gen: Generator): Tensor {
  return tidy(() => mul(randn(shape, { generator: gen }), scale));
}

describe('end-to-end training', () => {
  it('a 2-layer MLP learns XOR-like quadrants', async () => {
    const gen = new Generator(1);
    const n = 128;
    const x = tidy(() => mul(randn([n, 2], { generator: gen }), 1));
    const xs = x.dataSync();
    const labels = tensor(Array.from({ length: n }, (_, i) => (xs[2 * i]! * xs[2 * i + 1]! > 0 ? 1 : 0)), { dtype: 'i32' });
    const opt = new AdamW([init([2, 32], 0.5, gen), full([32], 0), init([32, 2], 0.3, gen), full([2], 0)].map((p) => p.requiresGrad_()), 0.03);
    const lossOf = (): Tensor => {
      const [w1, b1, w2, b2] = opt.params as [Tensor, Tensor, Tensor, Tensor];
      return crossEntropy(add(matmul(relu(add(matmul(x, w1), b1)), w2), b2), labels);
    };
    let last = Infinity;
    for (let step = 0; step < 300; step++) {
      const before = memory().numUndisposed;
      last = tidy(() => {
        zeroGrad(opt.params);
        const loss = lossOf();
        backward(loss);
        return loss.dataSync()[0]!;
      });
      opt.update();
      zeroGrad(opt.params);
      if (step > 0) expect(memory().numUndisposed).toBe(before); // a step leaks no tensors
    }
    expect(last).toBeLessThan(0.15);
  });

  it('a 1-block transformer learns to continue a repeating sequence', () => {
    const gen = new Generator(2);
    const vocab = 12;
    const d = 32;
    const heads = 4;
    const kvHeads = 2;
    const hd = d / heads;
    const seq = 16;
    const batch = 8;
    const params = {
      emb: init([vocab, d], 0.3, gen),
      n1: full([d], 1),
      wq: init([d, d], 0.15, gen),
      wk: init([d, kvHeads * hd], 0.15, gen),
      wv: init([d, kvHeads * hd], 0.15, gen),
      wo: init([d, d], 0.15, gen),
      n2: full([d], 1),
      wg: init([d, 64], 0.15, gen),
      wu: init([d, 64], 0.15, gen),
      wd: init([64, d], 0.1, gen),
      nf: full([d], 1),
      head: init([d, vocab], 0.15, gen),
    };
    const names = Object.keys(params) as (keyof typeof params)[];
    const opt = new AdamW(names.map((k) => params[k].requiresGrad_()), 0.01);
    const { cos, sin } = rotaryTables(seq, hd);
    // Each row repeats a random 4-token pattern; after the first period, the next token is determined.
    const batchOf = (): { input: Tensor; target: Tensor } =>
      tidy(() => {
        const pattern = randint(0, vocab, [batch, 4], { generator: gen }).dataSync();
        const rows: number[] = [];
        const targets: number[] = [];
        for (let b = 0; b < batch; b++) {
          const row = Array.from({ length: seq + 1 }, (_, i) => pattern[b * 4 + (i % 4)]!);
          rows.push(...row.slice(0, seq));
          targets.push(...row.slice(1).map((tok, i) => (i < 3 ? -100 : tok))); // first period is unpredictable
        }
        return { input: tensor(rows, { shape: [batch, seq], dtype: 'i32' }), target: tensor(targets, { shape: [batch, seq], dtype: 'i32' }) };
      });
    const forward = (input: Tensor, target: Tensor): Tensor => {
      const p = Object.fromEntries(names.map((k, i) => [k, opt.params[i]!])) as Record<keyof typeof params, Tensor>;
      const h = embedding(input, p.emb); // (B, T, d)
      const a = rmsNorm(h, p.n1);
      const q = transpose(reshape(matmul(a, p.wq), [batch, seq, heads, hd]), 1, 2); // (B, H, T, hd)
      const k = transpose(reshape(matmul(a, p.wk), [batch, seq, kvHeads, hd]), 1, 2);
      const v = transpose(reshape(matmul(a, p.wv), [batch, seq, kvHeads, hd]), 1, 2);
      const att = scaledDotProductAttention(applyRotary(q, cos, sin), applyRotary(k, cos, sin), v, undefined, { causal: true });
      const h2 = add(h, matmul(reshape(transpose(att, 1, 2), [batch, seq, d]), p.wo));
      const m = rmsNorm(h2, p.n2);
      const h3 = add(h2, matmul(mul(silu(matmul(m, p.wg)), matmul(m, p.wu)), p.wd));
      const logits = matmul(rmsNorm(h3, p.nf), p.head);
      return crossEntropy(logits, target);
    };
    let last = Infinity;
    for (let step = 0; step < 150; step++) {
      const { input, target } = batchOf();
      const before = memory().numUndisposed;
      last = tidy(() => {
        const loss = forward(input, target);
        backward(loss);
        return loss.dataSync()[0]!;
      });
      opt.update();
      zeroGrad(opt.params);
      expect(memory().numUndisposed).toBe(before);
      input.dispose();
      target.dispose();
    }
    expect(last).toBeLessThan(0.5);
  });
});
