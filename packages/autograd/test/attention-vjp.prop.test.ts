// attention's gradient rule (attentionForward's saved log-sum-exp + attentionGradQ/attentionGradKV)
// equals the gradient obtained by differentiating its decomposition primitive by primitive, on random
// shapes with grouped-query heads, causal masks with S != T, bool and additive masks, and dropout.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, OPS, registerBackend, scaledDotProductAttention, tensor, tidy, type AttentionAttrs, type OpDef, type Tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { gradients } from '../src/index.js';
import { attentionShapeArb, numRuns, valuesArb } from '../src/testing.js';

beforeAll(() => {
  registerBackend(createCpuBackend());
  // The same CPU without its fused composite kernels: the vjp's own ops then run their decompositions.
  const primitives = createCpuBackend({ name: 'cpu-primitives' });
  for (const op of [...primitives.kernels.keys()]) if (op.kind === 'composite') (primitives.kernels as Map<OpDef, unknown>).delete(op);
  registerBackend(primitives);
});

const problemArb = fc
  .record({
    shape: attentionShapeArb({ maxKvHeads: 3, maxGroup: 3, maxT: 6, maxExtra: 4, maxD: 5, masks: ['none', 'bool', 'float', 'float-grad'] }),
    dropoutP: fc.constantFrom(0, 0, 0.25),
    seed: fc.nat(1000),
  })
  .chain(({ shape: r, dropoutP, seed }) => {
    const n = (shape: number[]) => valuesArb(shape, { min: -2, max: 2 });
    return fc
      .tuple(n([r.b, r.h, r.t, r.d]), n([r.b, r.hkv, r.s, r.d]), n([r.b, r.hkv, r.s, r.d]), n([r.b, r.h, r.t, r.d]), fc.array(fc.boolean(), { minLength: r.b * r.t * r.s, maxLength: r.b * r.t * r.s }), n([r.h, r.t, r.s]))
      .map(([q, k, v, u, keep, bias]) => ({ ...r, dropoutP, seed, q, k, v, u, keep, bias }));
  });

describe('attention vjp', () => {
  it.each(['cpu-primitives', 'cpu'])('equals the gradient through the decomposition (f64, %s)', (device) => {
    fc.assert(
      fc.property(problemArb, (p) =>
        tidy(() => {
          const q = tensor(p.q, { shape: [p.b, p.h, p.t, p.d], dtype: 'f64', requiresGrad: true, device });
          const k = tensor(p.k, { shape: [p.b, p.hkv, p.s, p.d], dtype: 'f64', requiresGrad: true, device });
          const v = tensor(p.v, { shape: [p.b, p.hkv, p.s, p.d], dtype: 'f64', requiresGrad: true, device });
          const u = tensor(p.u, { shape: [p.b, p.h, p.t, p.d], dtype: 'f64', device });
          // The trainer's packed mask: (B, 1, T, S) bool, key 0 always visible; or an additive bias (1, H, T, S), learnt or not.
          const mask =
            p.mask === 'bool'
              ? tensor(p.keep.map((x, i) => x || i % p.s === 0), { shape: [p.b, 1, p.t, p.s], dtype: 'bool', device })
              : p.mask === 'none'
                ? undefined
                : tensor(p.bias, { shape: [1, p.h, p.t, p.s], dtype: 'f64', requiresGrad: p.mask === 'float-grad', device });
          const leaves = [q, k, v, ...(mask?.requiresGrad ? [mask] : [])];
          const fused = scaledDotProductAttention(q, k, v, mask, { causal: p.causal, dropoutP: p.dropoutP, generator: new Generator(p.seed) });
          const viaRule = gradients(fused, leaves, { gradient: u });
          // The same attributes (and dropout stream) as the call above, differentiated primitive by primitive.
          const attrs: AttentionAttrs = {
            causal: p.causal,
            scale: 1 / Math.sqrt(p.d),
            hasMask: !!mask,
            dropoutP: p.dropoutP,
            dropoutStream: p.dropoutP > 0 ? new Generator(p.seed).next(p.b * p.h * p.t * p.s) : undefined,
          };
          const reference = OPS.attention.decompose(mask ? [q, k, v, mask] : [q, k, v], attrs);
          const viaDecomposition = gradients(reference, leaves, { gradient: u });
          expect(Array.from(fused.dataSync())).toEqual(Array.from(reference.dataSync()).map((x) => expect.closeTo(x, 10)));
          viaRule.forEach((g: Tensor, i) => {
            const want = Array.from(viaDecomposition[i]!.dataSync());
            const got = Array.from(g.dataSync());
            expect(g.shape).toEqual(leaves[i]!.shape);
            got.forEach((x, j) => expect(Math.abs(x - want[j]!), `input ${i} element ${j}: ${x} vs ${want[j]}`).toBeLessThanOrEqual(1e-10 * (1 + Math.abs(want[j]!))));
          });
        }),
      ),
      { numRuns: numRuns() },
    );
  });

  it('with gradients recorded, scaledDotProductAttention saves the log-sum-exp beside the output (no forward rerun in backward)', () => {
    tidy(() => {
      const q = tensor([0.1, -0.2, 0.3, 0.4], { shape: [1, 1, 2, 2], dtype: 'f64', requiresGrad: true });
      const kv = tensor([0.5, 0.6, -0.7, 0.8, 0.9, 1.0], { shape: [1, 1, 3, 2], dtype: 'f64' });
      const out = scaledDotProductAttention(q, kv, kv, undefined, { causal: true });
      expect(out.shape).toEqual([1, 1, 2, 2]);
      expect(out.gradNode?.op.name).toBe('slice');
      expect(out.gradNode?.inputs[0]!.gradNode?.op).toBe(OPS.attentionForward);
    });
  });
});
