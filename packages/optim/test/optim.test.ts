import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, crossEntropy, matmul, memory, randn, randint, registerBackend, tensor, tidy, type Tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { backward } from '@tessera/autograd';
import { AdamW, LRScheduler, TokenAccumulator, clipGradNorm, constantSchedule, cosineSchedule, decays, linearSchedule } from '../src/index.js';

beforeAll(() => {
  registerBackend(createCpuBackend());
});

describe('schedules (Hugging Face formulas)', () => {
  it('linear warmup then linear decay', () => {
    const s = linearSchedule(100, 10);
    expect([0, 5, 10, 55, 100, 120].map(s)).toEqual([0, 0.5, 1, 0.5, 0, 0]);
  });

  it('cosine warmup then half cosine', () => {
    const s = cosineSchedule(110, 10);
    expect(s(5)).toBeCloseTo(0.5);
    expect(s(10)).toBeCloseTo(1);
    expect(s(60)).toBeCloseTo(0.5);
    expect(s(110)).toBeCloseTo(0);
  });

  it('constant after warmup; the scheduler sets the optimizer lr', () => {
    expect([0, 2, 4, 9].map(constantSchedule(4))).toEqual([0, 0.5, 1, 1]);
    const p = tensor([1], { requiresGrad: true });
    const opt = new AdamW([['p', p]], { lr: 0.2 });
    const sched = new LRScheduler(opt, linearSchedule(10, 2));
    expect(opt.lr).toBe(0);
    sched.step();
    expect(opt.lr).toBeCloseTo(0.1);
  });
});

describe('parameter groups', () => {
  it('does not decay biases and norm weights', () => {
    expect(decays('model.layers.0.self_attn.q_proj.weight', randn([2, 2]))).toBe(true);
    expect(decays('model.layers.0.input_layernorm.weight', randn([2]))).toBe(false);
    expect(decays('lm_head.bias', randn([2]))).toBe(false);
    const opt = new AdamW([['a.weight', randn([2, 2])], ['a.bias', randn([2])]], { lr: 1e-3, weightDecay: 0.1 });
    expect(opt.groups.map((g) => [g.params.map(([n]) => n), g.weightDecay])).toEqual([[['a.weight'], 0.1], [['a.bias'], 0]]);
  });
});

/** A tiny classifier with a fixed data stream, for resume and accumulation tests. */
function problem(seed: number) {
  const gen = new Generator(seed);
  const w = tidy(() => randn([4, 3], { generator: gen, dtype: 'f64' })).requiresGrad_();
  const x = randn([12, 4], { generator: gen, dtype: 'f64' });
  const y = randint(0, 3, [12], { generator: gen });
  return { w, x, y };
}

describe('exact resume', () => {
  it('saving and restoring optimizer + scheduler state continues bit for bit', () => {
    const train = (opt: AdamW, sched: LRScheduler, w: Tensor, x: Tensor, y: Tensor, steps: number): void => {
      for (let i = 0; i < steps; i++) {
        opt.zeroGrad();
        tidy(() => backward(crossEntropy(matmul(x, w), y)));
        opt.step();
        sched.step();
      }
    };
    const a = problem(1);
    const optA = new AdamW([['w', a.w]], { lr: 0.05 });
    const schedA = new LRScheduler(optA, cosineSchedule(10, 2));
    train(optA, schedA, a.w, a.x, a.y, 10);

    const b = problem(1);
    const optB = new AdamW([['w', b.w]], { lr: 0.05 });
    const schedB = new LRScheduler(optB, cosineSchedule(10, 2));
    train(optB, schedB, b.w, b.x, b.y, 4);
    // "Save": snapshot params and state; "restart": fresh optimizer and scheduler from the snapshot.
    const saved = { w: b.w.clone(), opt: optB.stateDict(), sched: schedB.stateDict() };
    const c = problem(1);
    c.w.assign(saved.w);
    const optC = new AdamW([['w', c.w]], { lr: 0.05 });
    optC.loadStateDict(saved.opt);
    const schedC = new LRScheduler(optC, cosineSchedule(10, 2));
    schedC.loadStateDict(saved.sched);
    train(optC, schedC, c.w, c.x, c.y, 6);
    expect(Array.from(c.w.dataSync())).toEqual(Array.from(a.w.dataSync()));
  });
});

describe('token-normalised gradient accumulation', () => {
  it('equals the gradient of the whole batch however tokens split into micro-batches', () => {
    const { w, x, y } = problem(3);
    // Ignore some targets so micro-batches hold different numbers of real tokens.
    const labels = tensor(Array.from(y.dataSync()).map((v, i) => (i % 3 === 0 ? -100 : v)), { dtype: 'i32' });
    tidy(() => backward(crossEntropy(matmul(x, w), labels)));
    const whole = Float64Array.from(w.grad!.dataSync());
    w.grad!.dispose();
    w.grad = null;
    const acc = new TokenAccumulator();
    for (const [start, end] of [[0, 2], [2, 9], [9, 12]] as const) {
      tidy(() => {
        const lb = labels.slice(0, start, end);
        backward(crossEntropy(matmul(x.slice(0, start, end), w), lb, { reduction: 'sum' }));
        acc.add(Array.from(lb.dataSync()).filter((v) => v !== -100).length);
      });
    }
    expect(acc.finish([w])).toBe(8);
    Array.from(w.grad!.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(whole[i]!, 12));
  });
});

describe('clipGradNorm', () => {
  it('returns the norm and scales gradients down to maxNorm', () => {
    const p = tensor([0, 0], { dtype: 'f64', requiresGrad: true });
    p.grad = tensor([3, 4], { dtype: 'f64' });
    const norm = clipGradNorm([p], 1);
    expect(norm.dataSync()[0]).toBeCloseTo(5);
    const g = Array.from(p.grad.dataSync());
    expect(g[0]).toBeCloseTo(0.6, 6);
    expect(g[1]).toBeCloseTo(0.8, 6);
  });

  it('clips a gradient that is a view into a larger storage (e.g. a slice the engine handed back)', () => {
    const p = tensor([0, 0], { dtype: 'f64', requiresGrad: true });
    const storage = tensor([3, 4, 99], { dtype: 'f64' });
    p.grad = storage.slice(0, 0, 2);
    clipGradNorm([p], 1).dispose();
    expect(Array.from(p.grad.dataSync()).map((v) => Number(v.toFixed(6)))).toEqual([0.6, 0.8]);
    expect(Array.from(storage.dataSync())).toEqual([3, 4, 99]);
  });

  it('an optimizer step leaks no tensors', () => {
    const { w, x, y } = problem(5);
    const opt = new AdamW([['w', w]], { lr: 0.01 });
    const step = (): void => {
      opt.zeroGrad();
      tidy(() => backward(crossEntropy(matmul(x, w), y)));
      clipGradNorm([w], 1).dispose();
      opt.step();
    };
    step();
    const before = memory().numUndisposed;
    step();
    opt.zeroGrad();
    step();
    opt.zeroGrad();
    expect(memory().numUndisposed).toBe(before - 1); // the gradient from the first step was cleared
  });
});
