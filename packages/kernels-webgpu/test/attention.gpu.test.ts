// The fused attention kernels (forward with and without the saved log-sum-exp, dQ, and dK/dV) equal
// the CPU's decomposition within f32 tolerance on random problems: T and S off the 16-row tile,
// head dims 1..128 (odd, small, 64, 128), grouped-query heads, causal masks with S != T, bool and
// additive masks, strided (B, T, H, D)-transposed operands; and whole gradients through
// scaledDotProductAttention on WebGPU (fused forward + both backward kernels) equal the CPU's.
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { AttentionAttrs, OpDef, Tensor } from '@tessera/tensor';
import { valueAndGrad } from '@tessera/autograd';
import { attentionShapeArb } from '@tessera/autograd/testing';
import { WEBGPU_KERNELS } from '../src/index.js';
import { expectSame, gpuOrNull, makeView, numRuns } from './cross-backend.js';
import { attentionBoolMask, attentionOperand } from './attention-inputs.js';
import { rowForwardSource } from '../src/kernels/attention-row-forward.js';
import { rowGradQSource } from '../src/kernels/attention-row-grad-q.js';
import { rowGradKVSource } from '../src/kernels/attention-row-grad-kv.js';
import { rowShape } from '../src/kernels/attention-row-shader.js';
import type { MaskKind, OperandName } from '../src/kernels/attention-shader.js';

const gpu = await gpuOrNull();
afterAll(() => gpu?.destroy());

/**
 * f32 tolerance [relative, absolute]: the kernels sum in another order (tiles of 16, online softmax
 * rescaling) than the CPU's matmul + softmax, a few ulps per term over up to 128-term dots and 60 keys.
 */
const TOL: [number, number] = [2e-4, 2e-5];

const MASKS = ['none', 'bool', 'float'] as const;

/** Problems with these mask kinds (default all). */
const problemsArb = (masks: readonly (typeof MASKS)[number][] = MASKS) =>
  fc
    .record({
      // Causal problems keep S >= T: with S < T the first T - S queries see no key (NaN rows, tested apart).
      shape: attentionShapeArb({ maxGroup: 3, maxT: 37, minExtra: -8, maxExtra: 23, headDims: [1, 3, 7, 16, 17, 33, 64, 128, 136], masks }),
      transposed: fc.boolean(),
      seed: fc.integer({ min: 0, max: 1e6 }),
    })
    .map(({ shape, ...p }) => ({ ...shape, ...p }));
const problemArb = problemsArb();
type Problem = typeof problemArb extends fc.Arbitrary<infer P> ? P : never;

const describeProblem = (p: Problem): string =>
  `B=${p.b} H=${p.h} Hkv=${p.hkv} T=${p.t} S=${p.s} D=${p.d} causal=${p.causal} mask=${p.mask} transposed=${p.transposed}`;

/** q, k, v and the mask of a problem on a device: the trainer's (B, 1, T, S) bool mask (key 0 always visible) or an additive (H, T, S) bias. */
function inputsOf(dev: string, p: Problem): { qkv: Tensor[]; mask: Tensor | undefined; attrs: AttentionAttrs } {
  const q = attentionOperand(dev, [p.b, p.h, p.t, p.d], p.transposed, p.seed);
  const k = attentionOperand(dev, [p.b, p.hkv, p.s, p.d], p.transposed, p.seed + 1);
  const v = attentionOperand(dev, [p.b, p.hkv, p.s, p.d], p.transposed, p.seed + 2);
  let mask: Tensor | undefined;
  if (p.mask === 'bool') {
    mask = attentionBoolMask(dev, p.b, p.t, p.s, p.seed + 3);
  } else if (p.mask === 'float') {
    mask = makeView(dev, [p.h, p.t, p.s], 'dense', 'f32', p.seed + 3, 'unit');
  }
  const attrs: AttentionAttrs = { causal: p.causal, scale: 1 / Math.sqrt(p.d), hasMask: !!mask, dropoutP: 0, dropoutStream: undefined };
  return { qkv: [q, k, v], mask, attrs };
}

/**
 * The fused kernel of `op` on WebGPU equals its decomposition on the CPU (gradient ops: given a
 * forward's lse, an output gradient and a delta), on problems with the mask kind `maskKind`.
 */
function kernelProperty(op: OpDef, withGradInputs: boolean, maskKind: Problem['mask']) {
  return () =>
    fc.assert(
      fc.asyncProperty(problemsArb([maskKind]), async (p) => {
        const run = (dev: string): Tensor =>
          T.tidy(() => {
            const { qkv, mask, attrs } = inputsOf(dev, p);
            let inputs = qkv;
            if (withGradInputs) {
              // A valid saved lse (from the forward) and an arbitrary output gradient and delta.
              const packed = T.apply(T.OPS.attentionForward, mask ? [...qkv, mask] : qkv, attrs);
              const lse = T.squeeze(packed.slice(-1, p.d), -1);
              const dO = makeView(dev, [p.b, p.h, p.t, p.d], 'dense', 'f32', p.seed + 4, 'unit');
              const delta = makeView(dev, [p.b, p.h, p.t], 'dense', 'f32', p.seed + 5, 'unit');
              inputs = [...qkv, dO, lse, delta];
            }
            const all = mask ? [...inputs, mask] : inputs;
            // On the CPU the decomposition itself (that backend has fused attention kernels of its own).
            return dev === 'cpu' ? (op as T.CompositeDef<AttentionAttrs>).decompose(all, attrs) : T.apply(op, all, attrs);
          });
        const cpu = run('cpu');
        const fused = run('webgpu');
        await expectSame(cpu, fused, `${op.name} ${describeProblem(p)}`, TOL);
        cpu.dispose();
        fused.dispose();
      }),
      { numRuns: numRuns() },
    );
}

/** Whether each fused kernel's property takes a forward's lse, an output gradient and a delta. */
const PROPERTIES = new Map<OpDef, boolean>([
  [T.OPS.attention, false],
  [T.OPS.attentionForward, false],
  [T.OPS.attentionGradQ, true],
  [T.OPS.attentionGradKV, true],
]);

describe.skipIf(gpu === null)('fused attention kernels equal the CPU decomposition (f32)', () => {
  test('coverage: every fused attention kernel has a property here', () => {
    const fused = [...WEBGPU_KERNELS.keys()].filter((op) => op.name.startsWith('attention'));
    expect(fused.filter((op) => !PROPERTIES.has(op)).map((op) => op.name)).toEqual([]);
  });
  // One test per kernel and mask kind. On a software adapter these properties cost compiling their
  // pipelines, not running them: a fresh machine (CI: no Mesa shader cache) compiles one pipeline per
  // kernel, mask kind and kernel shape (row kernel, or the 16x16 tile for D = 136), and lavapipe's
  // LLVM took ~18 s for each dK/dV one on the loaded 2-core machine. All mask kinds in one test took
  // 106 s of its 120 s timeout there (3 s once compiled, 100 runs); a mask kind per test compiles two.
  for (const [op, withGradInputs] of PROPERTIES) {
    for (const mask of MASKS) test(`${op.name} (mask ${mask})`, kernelProperty(op, withGradInputs, mask));
  }

  test('gradients through scaledDotProductAttention (fused forward, dQ and dK/dV kernels) equal the CPU', () =>
    fc.assert(
      fc.asyncProperty(problemArb, async (p) => {
        const results: Tensor[][] = [];
        for (const dev of ['cpu', 'webgpu']) {
          const { qkv, mask } = inputsOf(dev, p);
          const u = makeView(dev, [p.b, p.h, p.t, p.d], 'dense', 'f32', p.seed + 6, 'unit');
          const [loss, grads] = valueAndGrad((q: Tensor, k: Tensor, v: Tensor) => T.sum(T.mul(T.scaledDotProductAttention(q, k, v, mask, { causal: p.causal }), u)))(...qkv);
          results.push([loss, ...grads]);
          [...qkv, u, ...(mask ? [mask] : [])].forEach((t) => t.dispose());
        }
        const names = ['loss', 'dq', 'dk', 'dv'];
        for (let i = 0; i < names.length; i++) await expectSame(results[0]![i]!, results[1]![i]!, `${names[i]} ${describeProblem(p)}`, TOL);
        results.flat().forEach((t) => t.dispose());
      }),
      { numRuns: numRuns() },
    ));

  test('a query row no key may attend to is NaN, as in the decomposition (causal, T > S)', async () => {
    for (const dev of ['cpu', 'webgpu']) {
      const out = T.tidy(() => T.scaledDotProductAttention(attentionOperand(dev, [1, 1, 5, 3], false, 1), attentionOperand(dev, [1, 1, 2, 3], false, 2), attentionOperand(dev, [1, 1, 2, 3], false, 3), undefined, { causal: true }));
      const rows = Array.from((await out.data()) as Float32Array);
      expect(rows.slice(0, 9).every(Number.isNaN), dev).toBe(true);
      expect(rows.slice(9).some(Number.isNaN), dev).toBe(false);
      out.dispose();
    }
  });
});

describe.skipIf(gpu === null)('row attention kernels: the GPU variant', () => {
  // This adapter runs the software variant (dvn() a uniform word); the variant real GPUs compile
  // (dvn() the constant DV, loops unrolled) differs only in that bound: check it is valid WGSL for
  // every head-dim bucket and mask kind, without compiling pipelines.
  test('is valid WGSL for every head-dim bucket, kernel and mask kind', async () => {
    const f32 = (name: OperandName) => ({ name, dtype: 'f32' as const });
    const masks: [MaskKind, OperandName[]][] = [['none', []], ['bool', ['mask']], ['float', ['mask']]];
    for (const d of [16, 32, 64, 128]) {
      const { dv, bc } = rowShape(d);
      for (const [kind, mask] of masks) {
        const maskRead = mask.map((n) => (kind === 'bool' ? { name: n, dtype: 'bool' as const } : f32(n)));
        const sources = [
          rowForwardSource([...(['q', 'k', 'v'] as const).map(f32), ...maskRead], kind, dv, bc, false),
          rowGradQSource([...(['q', 'k', 'v', 'dO', 'lse', 'delta'] as const).map(f32), ...maskRead], kind, dv, bc, false),
          rowGradKVSource([...(['q', 'k', 'v', 'dO', 'lse', 'delta'] as const).map(f32), ...maskRead], kind, dv, bc, false),
        ];
        for (const code of sources) {
          const info = await gpu!.context.device.createShaderModule({ code }).getCompilationInfo();
          expect(info.messages.filter((m) => m.type === 'error').map((m) => m.message), `D=${d} mask=${kind}`).toEqual([]);
        }
      }
    }
  });
});
