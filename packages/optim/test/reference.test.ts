// AdamW and SGD held to trajectories recorded from torch.optim (scripts/reference/optim_reference.py).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cos, mul, registerBackend, sub, tanh, tensor, tidy, type Tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { AdamW, SGD, clipGradNorm, type Optimizer } from '../src/index.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/optim-reference.json', import.meta.url), 'utf8')) as {
  version: number;
  cases: Record<string, { w: number[]; b: number[] }[]>;
};

beforeAll(() => {
  registerBackend(createCpuBackend());
});

function initial(): [Tensor, Tensor] {
  const w = tensor(
    Array.from({ length: 6 }, (_, k) => Math.sin(Math.floor(k / 3) + 3 * (k % 3))),
    { shape: [2, 3], dtype: 'f64', requiresGrad: true },
  );
  const b = tensor([0.5, -0.25], { dtype: 'f64', requiresGrad: true });
  return [w, b];
}

function setGrads(step: number, w: Tensor, b: Tensor): void {
  w.grad = tidy(() => sub(cos(mul(w, step + 1)), mul(w, -0.1)));
  b.grad = tidy(() => sub(tanh(mul(b, step + 2)), 0.3));
}

function run(make: (params: [string, Tensor][]) => Optimizer, clip?: number): { w: number[]; b: number[] }[] {
  const [w, b] = initial();
  const opt = make([
    ['w', w],
    ['b', b],
  ]);
  const out = [];
  for (let step = 0; step < 3; step++) {
    opt.zeroGrad();
    setGrads(step, w, b);
    if (clip !== undefined) clipGradNorm([w, b], clip).dispose();
    opt.step();
    out.push({ w: Array.from(w.dataSync()), b: Array.from(b.dataSync()) });
  }
  return out;
}

function expectTrajectory(got: { w: number[]; b: number[] }[], want: { w: number[]; b: number[] }[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((s, i) => {
    s.w.forEach((v, j) => expect(v).toBeCloseTo(want[i]!.w[j]!, 12));
    s.b.forEach((v, j) => expect(v).toBeCloseTo(want[i]!.b[j]!, 12));
  });
}

describe('optimizers match torch.optim (f64, 3 steps)', () => {
  it('fixture format', () => expect(fixture.version).toBe(1));

  it('AdamW', () => {
    expectTrajectory(run((p) => new AdamW(p, { lr: 0.1, weightDecay: 0.01, noDecayOnNormsAndBiases: false })), fixture.cases.adamw!);
  });

  it('AdamW with gradient clipping', () => {
    expectTrajectory(run((p) => new AdamW(p, { lr: 0.05, weightDecay: 0 }), 0.5), fixture.cases.adamw_wd0_clip!);
  });

  it('SGD with momentum and weight decay', () => {
    expectTrajectory(run((p) => new SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 })), fixture.cases.sgd_momentum!);
  });

  it('SGD with Nesterov momentum', () => {
    expectTrajectory(run((p) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true })), fixture.cases.sgd_nesterov!);
  });
});
