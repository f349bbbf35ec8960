/**
 * Trains a tiny two-layer MLP to separate three interleaved spirals, end to end on Tessera:
 * data from the seeded RNG, forward pass from @tessera/tensor ops on the CPU backend, gradients
 * from @tessera/autograd's valueAndGrad, and AdamW updates with adamwStep. Runs in a few seconds.
 *
 *   pnpm demo                 (from the repository root)
 *   pnpm demo --steps=300     more steps
 */
import { valueAndGrad } from '@tessera/autograd';
import { createCpuBackend } from '@tessera/kernels-cpu';
import {
  adamwStep,
  add,
  argmax,
  cast,
  concat,
  cos,
  crossEntropy,
  dispose,
  eq,
  full,
  manualSeed,
  matmul,
  mean,
  memory,
  mul,
  rand,
  randn,
  registerBackend,
  relu,
  sin,
  stack,
  tidy,
  zerosLike,
  type Tensor,
} from '@tessera/tensor';

const CLASSES = 3;
const PER_CLASS = 100;
const HIDDEN = 64;

function option(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = arg === undefined ? fallback : Number(arg.slice(name.length + 3));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`train-tiny: --${name} must be a positive number (got "${arg}")`);
  return value;
}

/** Three noisy spiral arms in the plane: points (N, 2) and their arm ids (N) as i32. */
function spirals(): { x: Tensor; y: Tensor } {
  return tidy(() => {
    const xs: Tensor[] = [];
    const ys: Tensor[] = [];
    for (let k = 0; k < CLASSES; k++) {
      const r = rand([PER_CLASS]); // (P) radius in [0, 1)
      const theta = add(add(mul(r, 4), (2 * Math.PI * k) / CLASSES), mul(randn([PER_CLASS]), 0.2)); // (P)
      xs.push(stack([mul(r, sin(theta)), mul(r, cos(theta))], 1)); // (P, 2)
      ys.push(full([PER_CLASS], k, { dtype: 'i32' }));
    }
    return { x: concat(xs, 0), y: concat(ys, 0) };
  });
}

/** He-initialised weights (fanIn, fanOut) and a zero bias (fanOut). */
function linear(fanIn: number, fanOut: number): [Tensor, Tensor] {
  const w = tidy(() => mul(randn([fanIn, fanOut]), Math.sqrt(2 / fanIn)));
  return [w, full([fanOut], 0)];
}

/** logits = relu(x·W1 + b1)·W2 + b2. */
function forward(x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): Tensor {
  const h = relu(add(matmul(x, w1), b1)); // (N, H)
  return add(matmul(h, w2), b2); // (N, C)
}

async function main(): Promise<void> {
  const steps = option('steps', 200);
  const lr = option('lr', 0.02);
  registerBackend(createCpuBackend());
  manualSeed(0);

  const { x, y } = spirals();
  let params: Tensor[] = [...linear(2, HIDDEN), ...linear(HIDDEN, CLASSES)];
  let m = params.map((p) => zerosLike(p));
  let v = params.map((p) => zerosLike(p));
  const lossAndGrads = valueAndGrad((w1, b1, w2, b2) => crossEntropy(forward(x, w1!, b1!, w2!, b2!), y));
  const accuracyOf = (ps: Tensor[]): Tensor => tidy(() => mean(cast(eq(argmax(forward(x, ps[0]!, ps[1]!, ps[2]!, ps[3]!), -1), y), 'f32')));

  console.log(`train-tiny: 2-layer MLP (2 → ${HIDDEN} → ${CLASSES}) on ${CLASSES * PER_CLASS} spiral points, AdamW lr=${lr}, ${steps} full-batch steps`);
  const start = performance.now();
  const liveBefore = memory().numUndisposed;
  let lastLoss = NaN;
  for (let step = 1; step <= steps; step++) {
    const next = tidy(() => {
      const [loss, grads] = lossAndGrads(...params);
      const updated = params.map((p, i) => adamwStep(p, grads[i]!, m[i]!, v[i]!, { lr, step, weightDecay: 1e-4 }));
      return { loss, params: updated.map((u) => u.param), m: updated.map((u) => u.m), v: updated.map((u) => u.v) };
    });
    dispose([params, m, v]);
    ({ params, m, v } = next);
    if (step % 20 === 0 || step === 1 || step === steps) {
      lastLoss = await next.loss.item();
      const acc = accuracyOf(params);
      console.log(`step ${String(step).padStart(4)}  loss ${lastLoss.toFixed(4)}  accuracy ${((await acc.item()) * 100).toFixed(1)}%`);
      acc.dispose();
    }
    next.loss.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  const acc = accuracyOf(params);
  const accuracy = (await acc.item()) * 100;
  acc.dispose();
  const leaked = memory().numUndisposed - liveBefore;
  console.log(`final: loss ${lastLoss.toFixed(4)}, train accuracy ${accuracy.toFixed(1)}% after ${steps} steps in ${seconds.toFixed(1)} s; tensors leaked: ${leaked}`);
  dispose([params, m, v, x, y]);
  if (leaked !== 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
