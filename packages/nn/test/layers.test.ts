// The layers and losses of @tessera/nn held to their formulas computed here in f64: norms, MLPs,
// Embedding, Dropout (train/eval, seeded), causalLmLoss (Hugging Face's shift and -100), mseLoss;
// and Module.apply / requiresGrad_ / numParameters.
import { describe, expect, it } from 'vitest';
import { Generator, crossEntropy, ones, randn, registerBackend, reshape, tensor, type CrossEntropyOptions, type Tensor } from '@tessera/tensor';
import { grad } from '@tessera/autograd';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { Dropout, Embedding, GatedMlp, LayerNorm, Linear, Mlp, Module, RMSNorm, activate, causalLmLoss, mseLoss } from '../src/index.js';

registerBackend(createCpuBackend());

const rows = (t: Tensor): number[][] => {
  const v = Array.from(t.dataSync());
  const w = t.shape[t.rank - 1]!;
  return Array.from({ length: v.length / w }, (_, i) => v.slice(i * w, (i + 1) * w));
};
function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!), `[${i}] ${actual[i]} vs ${expected[i]}`).toBeLessThan(tol * (1 + Math.abs(expected[i]!)));
}
const X = [
  [0.5, -1.25, 2, 0.1],
  [3, 0, -0.7, 1.4],
];
const W = [1.1, 0.9, -0.5, 2];
const B = [0.1, -0.2, 0, 0.3];

describe('norms', () => {
  it('LayerNorm: (x - mean) / sqrt(var + eps) * w + b, biased variance', () => {
    const ln = new LayerNorm(4, 1e-5);
    ln.weight!.assign(tensor(W));
    ln.bias!.assign(tensor(B));
    const expected = X.flatMap((r) => {
      const m = r.reduce((a, b) => a + b) / 4;
      const v = r.reduce((a, b) => a + (b - m) ** 2, 0) / 4;
      return r.map((x, i) => ((x - m) / Math.sqrt(v + 1e-5)) * W[i]! + B[i]!);
    });
    close(ln.forward(tensor(X)).dataSync(), expected);
    expect(new LayerNorm(4, 1e-5, { bias: false }).namedParameters().map(([n]) => n)).toEqual(['weight']);
    expect(new LayerNorm(4, 1e-5, { elementwiseAffine: false }).namedParameters()).toEqual([]);
  });

  it('RMSNorm: x / sqrt(mean(x²) + eps) * w', () => {
    const n = new RMSNorm(4, 1e-6);
    n.weight.assign(tensor(W));
    const expected = X.flatMap((r) => {
      const ms = r.reduce((a, b) => a + b * b, 0) / 4;
      return r.map((x, i) => (x / Math.sqrt(ms + 1e-6)) * W[i]!);
    });
    close(n.forward(tensor(X)).dataSync(), expected);
  });
});

describe('MLPs and activations', () => {
  const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));
  const geluTanh = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  const silu = (x: number): number => x / (1 + Math.exp(-x));
  // Abramowitz-Stegun 7.1.26 is too coarse for 1e-5; a series is exact enough on |x| < 3.
  function erf(x: number): number {
    let sum = 0;
    let term = x;
    for (let n = 0; n < 60; n++) {
      sum += term / (2 * n + 1);
      term *= (-x * x) / (n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }

  it('activate follows Hugging Face names: gelu is erf, gelu_new / gelu_pytorch_tanh the tanh form', () => {
    const xs = X.flat();
    close(activate(tensor(xs), 'gelu').dataSync(), xs.map(gelu));
    close(activate(tensor(xs), 'gelu_new').dataSync(), xs.map(geluTanh));
    close(activate(tensor(xs), 'gelu_pytorch_tanh').dataSync(), xs.map(geluTanh));
    close(activate(tensor(xs), 'silu').dataSync(), xs.map(silu));
    close(activate(tensor(xs), 'relu').dataSync(), xs.map((x) => Math.max(0, x)));
    expect(() => activate(tensor(xs), 'swish' as never)).toThrow(/unsupported activation "swish"; supported: silu/);
  });

  // Linear weights (out, in) as PyTorch: y = x Wᵀ + b.
  const linear = (x: number[], w: number[][], b?: number[]): number[] => w.map((row, o) => row.reduce((s, wi, i) => s + wi * x[i]!, b?.[o] ?? 0));
  const weights = (out: number, inp: number, seed: number): number[][] =>
    Array.from({ length: out }, (_, o) => Array.from({ length: inp }, (_, i) => Math.sin(seed + 0.7 * o + 1.3 * i) * 0.5));
  const set = (l: Linear, w: number[][], b?: number[]): void => {
    l.weight.assign(tensor(w));
    if (b) l.bias!.assign(tensor(b));
  };

  it('Mlp: fc2(act(fc1(x))) with biases', () => {
    const m = new Mlp(4, 6, 'gelu_new');
    const [w1, w2] = [weights(6, 4, 1), weights(4, 6, 2)];
    const [b1, b2] = [[0.1, 0, -0.1, 0.2, 0, 0.05], B];
    set(m.fc1, w1, b1);
    set(m.fc2, w2, b2);
    const expected = X.flatMap((x) => linear(linear(x, w1, b1).map(geluTanh), w2, b2));
    close(m.forward(tensor(X)).dataSync(), expected);
  });

  it('GatedMlp: down(silu(gate(x)) * up(x)), no biases by default', () => {
    const m = new GatedMlp(4, 6);
    expect(m.namedParameters().map(([n]) => n)).toEqual(['gate_proj.weight', 'up_proj.weight', 'down_proj.weight']);
    const [g, u, d] = [weights(6, 4, 3), weights(6, 4, 4), weights(4, 6, 5)];
    set(m.gate_proj, g);
    set(m.up_proj, u);
    set(m.down_proj, d);
    const expected = X.flatMap((x) => {
      const up = linear(x, u);
      return linear(linear(x, g).map((v, i) => silu(v) * up[i]!), d);
    });
    close(m.forward(tensor(X)).dataSync(), expected);
  });
});

describe('Embedding and Dropout', () => {
  it('Embedding looks rows up for ids of any shape', () => {
    const e = new Embedding(5, 3, { generator: new Generator(1) });
    const table = rows(e.weight);
    const out = e.forward(tensor([[4, 0], [2, 2]], { dtype: 'i32' }));
    expect(out.shape).toEqual([2, 2, 3]);
    expect(rows(out)).toEqual([table[4], table[0], table[2], table[2]]);
  });

  it('Dropout zeroes about p of the elements and scales the rest by 1/(1-p) in training; identity in eval', () => {
    const x = ones([4000]);
    const d = new Dropout(0.25, new Generator(7));
    const y = Array.from(d.forward(x).dataSync());
    const kept = y.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    expect(Math.abs(1 - kept.length / 4000 - 0.25)).toBeLessThan(0.03);
    // Seeded: the same generator seed drops the same elements.
    expect(Array.from(new Dropout(0.25, new Generator(7)).forward(x).dataSync())).toEqual(y);
    d.eval();
    expect(d.forward(x)).toBe(x);
    expect(() => new Dropout(1).forward(x)).toThrow(/p must be in \[0, 1\)/);
  });
});

describe('losses', () => {
  it("causalLmLoss: logits at t predict labels at t + 1, -100 ignored, mean over the rest (Hugging Face's shift)", () => {
    const logits = [
      [[0.1, 2, -1], [1, 0, 0.5], [0.3, 0.3, 0.3], [2, -2, 0]],
      [[0, 0, 1], [-1, 1, 0], [0.5, 0, -0.5], [1, 1, 1]],
    ];
    const labels = [[7, 1, -100, 2], [-100, 2, 0, -100]];
    const terms: number[] = [];
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 3; t++) {
        const y = labels[b]![t + 1]!;
        if (y === -100) continue;
        const z = logits[b]![t]!;
        const lse = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
        terms.push(lse - z[y]!);
      }
    }
    const loss = causalLmLoss(tensor(logits), tensor(labels, { dtype: 'i32' }));
    close(loss.dataSync(), [terms.reduce((a, b) => a + b) / terms.length]);
    expect(() => causalLmLoss(tensor(logits), tensor([[1, 2, 3]], { dtype: 'i32' }))).toThrow(/labels \[1,3\] must be \(B, T\) = \[2,4\]/);
  });

  it('causalLmLoss shifts the labels, not the logits: same loss and logit gradient as slicing the logits, zero gradient at the last position', () => {
    const gen = new Generator(5);
    const logits = randn([3, 5, 7], { generator: gen, dtype: 'f64' });
    const labels = tensor([[1, 2, -100, 4, 0], [6, -100, 3, 3, 1], [0, 0, 5, -100, -100]], { dtype: 'i32' });
    const sliced = (z: Tensor, opts: CrossEntropyOptions = {}): Tensor => crossEntropy(reshape(z.slice(1, 0, 4), [12, 7]), reshape(labels.slice(1, 1, 5), [12]), opts);
    for (const opts of [{}, { reduction: 'sum' as const }, { labelSmoothing: 0.1 }]) {
      const [dz] = grad((z) => causalLmLoss(z, labels, opts))(logits);
      const [want] = grad((z) => sliced(z, opts))(logits);
      close(causalLmLoss(logits, labels, opts).dataSync(), sliced(logits, opts).dataSync(), 1e-12);
      close(dz!.dataSync(), want!.dataSync(), 1e-12);
      expect(Array.from(dz!.slice(1, 4, 5).contiguous().dataSync()).every((x) => x === 0)).toBe(true);
    }
    const perPosition = causalLmLoss(logits, labels, { reduction: 'none' });
    expect(perPosition.shape).toEqual([12]);
    close(perPosition.dataSync(), sliced(logits, { reduction: 'none' }).dataSync(), 1e-12);
    // Another ignore index, and u8 labels: the appended ignore position is i32 whatever came in.
    close(causalLmLoss(logits, tensor([[1, 2, 9, 4, 0], [6, 9, 3, 3, 1], [0, 0, 5, 9, 9]], { dtype: 'u8' }), { ignoreIndex: 9 }).dataSync(), sliced(logits).dataSync(), 1e-12);
  });

  it('mseLoss is the mean squared difference', () => {
    close(mseLoss(tensor([1, 2, 3]), tensor([1.5, 2, 1])).dataSync(), [(0.25 + 0 + 4) / 3]);
  });
});

describe('Module tree', () => {
  class Pair extends Module {
    readonly a = this.child('a', new Linear(2, 3));
    readonly b = this.child('b', new LayerNorm(3));
  }
  class Top extends Module {
    readonly inner = this.child('inner', new Pair());
    readonly head = this.child('head', new Linear(3, 1, { bias: false }));
  }

  it('apply visits children before parents with their paths (PyTorch order)', () => {
    const seen: string[] = [];
    new Top().apply((m, path) => seen.push(`${path || '<root>'}:${m.constructor.name}`));
    expect(seen.indexOf('inner.a:Linear')).toBeLessThan(seen.indexOf('inner:Pair'));
    expect(seen.indexOf('inner:Pair')).toBeLessThan(seen.indexOf('<root>:Top'));
    expect(seen.at(-1)).toBe('<root>:Top');
    expect(seen).toHaveLength(5);
  });

  it('requiresGrad_ freezes and unfreezes; numParameters counts all or only trainable', () => {
    const m = new Top();
    expect(m.numParameters()).toBe(2 * 3 + 3 + 3 + 3 + 3);
    m.inner.requiresGrad_(false);
    expect(m.numParameters({ trainableOnly: true })).toBe(3);
    expect(m.trainableParameters().map(([n]) => n)).toEqual(['head.weight']);
    m.requiresGrad_(true);
    expect(m.numParameters({ trainableOnly: true })).toBe(18);
  });
});
