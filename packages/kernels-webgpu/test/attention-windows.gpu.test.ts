// Fused attention (forward, forward with lse, dQ, dK/dV) and rotary (forward, backward) on operands
// larger than one binding: with the binding limit lowered to 4 KiB (1024 f32), the kernels run in
// ranges of workgroups whose windows fit, and give the same bits as the unsplit kernels on a device
// with the default limit, and the CPU decomposition's values within f32 tolerance.
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { AttentionAttrs, OpDef, Tensor } from '@tessera/tensor';
import { valueAndGrad } from '@tessera/autograd';
import { expectSame, gpuOrNull, makeView, numRuns } from './cross-backend.js';
import { attentionBoolMask, attentionOperand } from './attention-inputs.js';

const LIMIT = 4096;
const whole = await gpuOrNull();
const small = await gpuOrNull({ name: 'webgpu-small', bindingLimitBytes: LIMIT });
afterAll(() => {
  whole?.destroy();
  small?.destroy();
});
const runs = { numRuns: Math.min(numRuns(), 15) };
const EXACT: [number, number] = [0, 0];
const TOL: [number, number] = [2e-4, 2e-5];

// Problems over several bindings whose per-workgroup reads still fit one: a query tile reads all the
// keys of its kv head (S·D, or S·Hkv·D through a (B, S, Hkv, D) transpose), a key tile all the
// queries of its G heads.
const problemArb = fc
  .record({
    b: fc.integer({ min: 1, max: 3 }),
    hkv: fc.integer({ min: 1, max: 2 }),
    g: fc.integer({ min: 1, max: 2 }),
    t: fc.integer({ min: 5, max: 40 }),
    s: fc.integer({ min: 5, max: 40 }),
    d: fc.constantFrom(4, 8, 13, 16),
    causal: fc.boolean(),
    mask: fc.constantFrom('none', 'bool', 'float'),
    transposed: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1e6 }),
  })
  .map((p) => ({ ...p, h: p.hkv * p.g, s: p.causal ? Math.max(p.s, p.t) : p.s }))
  .filter((p) => {
    const keysRead = p.s * p.d * (p.transposed ? p.hkv : 1);
    const queriesRead = p.t * p.d * (p.transposed ? p.h : p.g);
    const maskRead = p.mask === 'float' ? p.g * p.t * p.s : p.t * p.s;
    // Queries (and the query pass's output) and keys both over a binding, so every op splits.
    return Math.max(keysRead, queriesRead, maskRead) <= 900 && p.b * p.h * p.t * p.d > 1100 && p.b * p.hkv * p.s * p.d > 1100;
  });
type Problem = typeof problemArb extends fc.Arbitrary<infer P> ? P : never;

const describeProblem = (p: Problem): string =>
  `B=${p.b} H=${p.h} Hkv=${p.hkv} T=${p.t} S=${p.s} D=${p.d} causal=${p.causal} mask=${p.mask} transposed=${p.transposed}`;

/** The op's inputs on a device: q, k, v (and for the gradient ops a saved lse, dO and delta), then the mask. */
function inputsOf(dev: string, p: Problem, withGradInputs: boolean): { inputs: Tensor[]; attrs: AttentionAttrs } {
  const qkv = [attentionOperand(dev, [p.b, p.h, p.t, p.d], p.transposed, p.seed), attentionOperand(dev, [p.b, p.hkv, p.s, p.d], p.transposed, p.seed + 1), attentionOperand(dev, [p.b, p.hkv, p.s, p.d], p.transposed, p.seed + 2)];
  let mask: Tensor | undefined;
  if (p.mask === 'bool') {
    mask = attentionBoolMask(dev, p.b, p.t, p.s, p.seed + 3);
  } else if (p.mask === 'float') {
    mask = makeView(dev, [p.h, p.t, p.s], 'dense', 'f32', p.seed + 3, 'unit');
  }
  const attrs: AttentionAttrs = { causal: p.causal, scale: 1 / Math.sqrt(p.d), hasMask: !!mask, dropoutP: 0, dropoutStream: undefined };
  let inputs = qkv;
  if (withGradInputs) {
    const lse = makeView(dev, [p.b, p.h, p.t], 'dense', 'f32', p.seed + 4, 'unit');
    const dO = makeView(dev, [p.b, p.h, p.t, p.d], 'dense', 'f32', p.seed + 5, 'unit');
    const delta = makeView(dev, [p.b, p.h, p.t], 'dense', 'f32', p.seed + 6, 'unit');
    inputs = [...qkv, dO, lse, delta];
  }
  return { inputs: mask ? [...inputs, mask] : inputs, attrs };
}

const OPS: [OpDef<AttentionAttrs>, boolean][] = [
  [T.OPS.attention, false],
  [T.OPS.attentionForward, false],
  [T.OPS.attentionGradQ, true],
  [T.OPS.attentionGradKV, true],
];

describe.skipIf(whole === null || small === null)('fused attention over binding windows (4 KiB bindings)', () => {
  for (const [op, withGradInputs] of OPS) {
    test(`${op.name}: split equals unsplit bit for bit, and the CPU decomposition`, () =>
      fc.assert(
        fc.asyncProperty(problemArb, async (p) => {
          const run = (dev: string): Tensor =>
            T.tidy(() => {
              const { inputs, attrs } = inputsOf(dev, p, withGradInputs);
              return dev === 'cpu' ? (op as T.CompositeDef<AttentionAttrs>).decompose(inputs, attrs) : T.apply(op, inputs, attrs);
            });
          const before = small!.context.counters.dispatches;
          const split = run('webgpu-small');
          const dispatches = small!.context.counters.dispatches - before;
          const unsplit = run('webgpu');
          const cpu = run('cpu');
          try {
            expect(dispatches, `${op.name} ran in pieces`).toBeGreaterThan(1);
            await expectSame(unsplit, split, `${op.name} split vs unsplit, ${describeProblem(p)}`, EXACT);
            await expectSame(cpu, split, `${op.name} split vs cpu, ${describeProblem(p)}`, TOL);
          } finally {
            T.dispose([split, unsplit, cpu]);
          }
        }),
        runs,
      ));
  }

  test('gradients through scaledDotProductAttention equal the CPU', () =>
    fc.assert(
      fc.asyncProperty(problemArb, async (p) => {
        const results: Tensor[][] = [];
        for (const dev of ['cpu', 'webgpu-small']) {
          const { inputs } = inputsOf(dev, p, false);
          const [q, k, v, mask] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined];
          const u = makeView(dev, [p.b, p.h, p.t, p.d], 'dense', 'f32', p.seed + 7, 'unit');
          const [loss, grads] = valueAndGrad((q: Tensor, k: Tensor, v: Tensor) => T.sum(T.mul(T.scaledDotProductAttention(q, k, v, mask, { causal: p.causal }), u)))(q, k, v);
          results.push([loss, ...grads]);
          T.dispose([...inputs, u]);
        }
        const names = ['loss', 'dq', 'dk', 'dv'];
        for (let i = 0; i < names.length; i++) await expectSame(results[0]![i]!, results[1]![i]!, `${names[i]} ${describeProblem(p)}`, [1e-3, 1e-4]);
        T.dispose(results);
      }),
      runs,
    ));
});

describe.skipIf(whole === null || small === null)('rotary over binding windows (4 KiB bindings)', () => {
  test('rotary and rotaryBackward: split equals unsplit bit for bit, and the CPU decomposition', () =>
    fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 9, max: 50 }),
        fc.constantFrom(8, 14, 32, 64),
        fc.boolean(),
        fc.integer({ min: 0, max: 1e6 }),
        async (b, h, t, d, transposed, seed) => {
          fc.pre(b * h * t * d > 1100);
          for (const op of [T.OPS.rotary, T.OPS.rotaryBackward]) {
            const run = (dev: string): Tensor =>
              T.tidy(() => {
                const x = transposed ? makeView(dev, [b, t, h, d], 'dense', 'f32', seed).transpose(1, 2) : makeView(dev, [b, h, t, d], 'dense', 'f32', seed);
                const inputs = [x, makeView(dev, [t, d], 'dense', 'f32', seed + 1, 'unit'), makeView(dev, [t, d], 'dense', 'f32', seed + 2, 'unit')];
                return dev === 'cpu' ? (op as T.CompositeDef<undefined>).decompose(inputs, undefined) : T.apply(op, inputs, undefined);
              });
            const split = run('webgpu-small');
            const unsplit = run('webgpu');
            const cpu = run('cpu');
            const what = `${op.name} [${b},${h},${t},${d}] transposed=${transposed}`;
            try {
              expect((split.storage.data as GPUBuffer).size).toBeGreaterThan(LIMIT);
              await expectSame(unsplit, split, `${what} split vs unsplit`, EXACT);
              await expectSame(cpu, split, `${what} split vs cpu`, [1e-5, 1e-6]);
            } finally {
              T.dispose([split, unsplit, cpu]);
            }
          }
        },
      ),
      runs,
    ));
});
