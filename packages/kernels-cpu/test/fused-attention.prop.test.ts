// The fused CPU attention kernels (attention, attentionForward, attentionGradQ, attentionGradKV) held to
// the ops' decompositions, run on a CPU backend without those kernels: grouped-query heads, causal
// masks aligned bottom-right with S != T (rows with no visible key included), bool and additive masks
// broadcast from smaller shapes, strided q/k/v/dO (transposed, sliced, offset, expanded), f32 and f64.
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { AttentionAttrs, DType, OpDef, Tensor } from '@tessera/tensor';
import { createCpuBackend } from '../src/index.js';
import { wasmAttentionKernels } from '../src/kernels/attention-wasm.js';
import { WasmGemm } from '../src/wasm/wasm-gemm.js';
import { broadcastableArb, expectClose, layoutArb, logical, makeView, numRuns, seedArb, type Layout } from './views.js';

const FUSED: OpDef[] = [T.OPS.attention, T.OPS.attentionForward, T.OPS.attentionGradQ, T.OPS.attentionGradKV];
const REF = 'cpu-attention-decomposed';
const decomposed = createCpuBackend({ name: REF });
for (const op of FUSED) (decomposed.kernels as Map<OpDef, unknown>).delete(op);
T.registerBackend(decomposed);

// Backends whose attention kernels split the work across threads at any size (the threshold at 0),
// on 1 and 2 threads: the split the training shapes take, on the test's small heads. The 'heads' ones
// run whole heads per thread (attention-heads.ts, what heads of up to MAX_HEAD_SCORES take); the
// 'batched' ones run every batch of head products as one threaded batch (what larger heads take), and
// the 2-thread one holds at most 600 scores a chunk, so most cases take several chunks of whole kv groups.
const batchedEngines = [1, 2].map((threads) => new WasmGemm(threads));
const headsEngines = [1, 2].map((threads) => new WasmGemm(threads));
const BATCHED = [
  ...batchedEngines.map((engine) => {
    const name = `cpu-attention-batched-${engine.threads}`;
    T.registerBackend(createCpuBackend({ name, threads: engine.threads, kernels: new Map(wasmAttentionKernels(() => engine, 0, engine.threads > 1 ? 600 : undefined, 0)) }));
    return name;
  }),
  ...headsEngines.map((engine) => {
    const name = `cpu-attention-heads-${engine.threads}`;
    T.registerBackend(createCpuBackend({ name, threads: engine.threads, kernels: new Map(wasmAttentionKernels(() => engine, 0)) }));
    return name;
  }),
];
afterAll(() => [...batchedEngines, ...headsEngines].forEach((e) => e.close()));

/** `op` on each batched backend (inputs copied there) held to `want`. */
function expectBatched(op: OpDef<AttentionAttrs>, inputs: Tensor[], attrs: AttentionAttrs, want: number[], rtol: number, atol: number, what: string): void {
  for (const device of BATCHED) {
    const got = T.apply(op, inputs.map((t) => T.tensor(logical(t), { shape: [...t.shape], dtype: t.dtype, device })), attrs);
    expect(got.device).toBe(device);
    expectClose(logical(got), want, rtol, atol, `${what} on ${device}`);
  }
}

/** A copy of `t` (same logical values) on the decomposing backend. */
const onRef = (t: Tensor): Tensor => T.tensor(logical(t), { shape: [...t.shape], dtype: t.dtype, device: REF });

/** Relative and absolute tolerance per dtype: the f32 decomposition rounds scores, weights and products. */
const tol = (dtype: DType): [number, number] => (dtype === 'f32' ? [2e-4, 2e-5] : [1e-10, 1e-12]);

type MaskKind = 'none' | 'bool' | 'additive';

interface Case {
  b: number;
  hkv: number;
  group: number;
  t: number;
  s: number;
  d: number;
  causal: boolean;
  maskKind: MaskKind;
  maskShape: number[];
  layouts: Layout[];
  seeds: number[];
  dtype: DType;
}

/** Cases with T, S and D in the given ranges (heads of 8+ queries and keys take the gemm path for f32). */
const casesWith = (t: [number, number], s: [number, number], d: [number, number], dtypes: DType[]): fc.Arbitrary<Case> =>
  fc
    .record({
      b: fc.integer({ min: 1, max: 2 }),
      hkv: fc.integer({ min: 1, max: 2 }),
      group: fc.integer({ min: 1, max: 3 }),
      t: fc.integer({ min: t[0], max: t[1] }),
      s: fc.integer({ min: s[0], max: s[1] }),
      d: fc.integer({ min: d[0], max: d[1] }),
      causal: fc.boolean(),
      maskKind: fc.constantFrom<MaskKind>('none', 'bool', 'additive'),
      layouts: fc.array(layoutArb, { minLength: 5, maxLength: 5 }),
      seeds: fc.array(seedArb, { minLength: 6, maxLength: 6 }),
      dtype: fc.constantFrom(...dtypes),
    })
    .chain((c) => broadcastableArb([c.b, c.hkv * c.group, c.t, c.s]).map((maskShape) => ({ ...c, maskShape })));

const caseArb = casesWith([1, 6], [1, 7], [1, 5], ['f32', 'f64']);

/** q, k, v (and the mask) of a case on the default (fused) backend, plus the op attributes. */
function inputsOf(c: Case): { inputs: Tensor[]; attrs: AttentionAttrs } {
  const h = c.hkv * c.group;
  const q = makeView([c.b, h, c.t, c.d], c.layouts[0]!, c.dtype, c.seeds[0]!, 'unit');
  const k = makeView([c.b, c.hkv, c.s, c.d], c.layouts[1]!, c.dtype, c.seeds[1]!, 'unit');
  const v = makeView([c.b, c.hkv, c.s, c.d], c.layouts[2]!, c.dtype, c.seeds[2]!);
  const inputs = [q, k, v];
  if (c.maskKind === 'bool') inputs.push(makeView(c.maskShape, c.layouts[3]!, 'bool', c.seeds[3]!));
  if (c.maskKind === 'additive') inputs.push(makeView(c.maskShape, c.layouts[3]!, c.dtype, c.seeds[3]!, 'unit'));
  const attrs: AttentionAttrs = { causal: c.causal, scale: 1 / Math.sqrt(c.d) + 0.25, hasMask: c.maskKind !== 'none', dropoutP: 0, dropoutStream: undefined };
  return { inputs, attrs };
}

const describeCase = (c: Case): string =>
  `${c.dtype} B${c.b} Hkv${c.hkv}x${c.group} T${c.t} S${c.s} D${c.d} causal ${c.causal} mask ${c.maskKind}[${c.maskShape}] ${c.layouts.join(',')}`;

/** Runs `op` on the fused backend and on the decomposing one; returns both results' logical values. */
function both(op: OpDef<AttentionAttrs>, inputs: Tensor[], attrs: AttentionAttrs): [number[], number[]] {
  const fused = T.apply(op, inputs, attrs);
  const reference = T.apply(op, inputs.map(onRef), attrs);
  expect(fused.device).toBe('cpu');
  expect(fused.shape).toEqual(reference.shape);
  expect(fused.dtype).toBe(reference.dtype);
  return [logical(fused), logical(reference)];
}

test('the default CPU backend registers a kernel for each attention op', () => {
  for (const op of FUSED) expect(T.getBackend().kernels.has(op), op.name).toBe(true);
});

describe('fused attention equals its decomposition', () => {
  test('attention and attentionForward (output and log-sum-exp column)', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { inputs, attrs } = inputsOf(c);
        const [rtol, atol] = tol(c.dtype);
        for (const op of [T.OPS.attention, T.OPS.attentionForward] as OpDef<AttentionAttrs>[]) {
          const [got, want] = both(op, inputs, attrs);
          expectClose(got, want, rtol, atol, `${op.name} ${describeCase(c)}`);
        }
      }),
      { numRuns: numRuns() },
    );
  });

  test('attentionGradQ and attentionGradKV, with the forward’s (strided) lse and a random delta', () => {
    fc.assert(
      fc.property(caseArb, fc.tuple(layoutArb, seedArb), (c, [ldo, sdo]) => {
        const { inputs, attrs } = inputsOf(c);
        const [q, k, v, mask] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined];
        const h = c.hkv * c.group;
        // lse as the forward leaves it: the last column of attentionForward's result, a strided view.
        const packed = T.apply(T.OPS.attentionForward as OpDef<AttentionAttrs>, inputs.map(onRef), attrs);
        const lse = T.tensor(logical(packed.slice(-1, c.d, c.d + 1).reshape([c.b, h, c.t])), { shape: [c.b, h, c.t], dtype: c.dtype });
        const dO = makeView([c.b, h, c.t, c.d], ldo as Layout, c.dtype, sdo);
        const delta = makeView([c.b, h, c.t], c.layouts[4]!, c.dtype, c.seeds[5]!, 'unit');
        const gradInputs = [q, k, v, dO, lse, delta, ...(mask ? [mask] : [])];
        const [rtol, atol] = tol(c.dtype);
        for (const op of [T.OPS.attentionGradQ, T.OPS.attentionGradKV] as OpDef<AttentionAttrs>[]) {
          const [got, want] = both(op, gradInputs, attrs);
          expectClose(got, want, rtol * 5, atol * 5, `${op.name} ${describeCase(c)}`);
        }
      }),
      { numRuns: numRuns() },
    );
  });

  test('on heads of 8+ queries and keys (the WebAssembly gemm path for f32) all four ops equal the decomposition, per product and in threaded batches', () => {
    fc.assert(
      fc.property(casesWith([8, 21], [8, 23], [1, 17], ['f32']), seedArb, (c, sdo) => {
        const { inputs, attrs } = inputsOf(c);
        const [q, k, v, mask] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined];
        const h = c.hkv * c.group;
        const [rtol, atol] = tol(c.dtype);
        for (const op of [T.OPS.attention, T.OPS.attentionForward] as OpDef<AttentionAttrs>[]) {
          const [got, want] = both(op, inputs, attrs);
          expectClose(got, want, rtol, atol, `${op.name} ${describeCase(c)}`);
          expectBatched(op, inputs, attrs, want, rtol, atol, `${op.name} ${describeCase(c)}`);
        }
        const packed = T.apply(T.OPS.attentionForward as OpDef<AttentionAttrs>, inputs.map(onRef), attrs);
        const lse = packed.slice(-1, c.d, c.d + 1).reshape([c.b, h, c.t]);
        const gradInputs = [q, k, v, makeView([c.b, h, c.t, c.d], c.layouts[4]!, c.dtype, sdo), T.tensor(logical(lse), { shape: [c.b, h, c.t], dtype: c.dtype }), makeView([c.b, h, c.t], 'sliced', c.dtype, c.seeds[5]!, 'unit'), ...(mask ? [mask] : [])];
        for (const op of [T.OPS.attentionGradQ, T.OPS.attentionGradKV] as OpDef<AttentionAttrs>[]) {
          const [got, want] = both(op, gradInputs, attrs);
          expectClose(got, want, rtol * 5, atol * 5, `${op.name} ${describeCase(c)}`);
          expectBatched(op, gradInputs, attrs, want, rtol * 5, atol * 5, `${op.name} ${describeCase(c)}`);
        }
      }),
      { numRuns: numRuns() },
    );
  });

  test('heads deeper than one depth block of the gemm (T, S > 256: no causal skipping inside a product) equal the decomposition', () => {
    for (const causal of [true, false]) {
      const c: Case = { b: 1, hkv: 1, group: 2, t: 260, s: 270, d: 4, causal, maskKind: 'none', maskShape: [], layouts: ['transposed', 'dense', 'sliced', 'dense', 'offset'], seeds: [31, 32, 33, 34, 35, 36], dtype: 'f32' };
      const { inputs, attrs } = inputsOf(c);
      const [rtol, atol] = tol('f32');
      const [out, want] = both(T.OPS.attentionForward as OpDef<AttentionAttrs>, inputs, attrs);
      expectClose(out, want, rtol, atol, `attentionForward ${describeCase(c)}`);
      expectBatched(T.OPS.attentionForward as OpDef<AttentionAttrs>, inputs, attrs, want, rtol, atol, `attentionForward ${describeCase(c)}`);
      const packed = T.apply(T.OPS.attentionForward as OpDef<AttentionAttrs>, inputs.map(onRef), attrs);
      const lse = T.tensor(logical(packed.slice(-1, c.d, c.d + 1).reshape([1, 2, c.t])), { shape: [1, 2, c.t], dtype: 'f32' });
      const gradInputs = [...inputs, makeView([1, 2, c.t, c.d], 'transposed', 'f32', 37), lse, makeView([1, 2, c.t], 'dense', 'f32', 38, 'unit')];
      for (const op of [T.OPS.attentionGradQ, T.OPS.attentionGradKV] as OpDef<AttentionAttrs>[]) {
        const [got, ref] = both(op, gradInputs, attrs);
        expectClose(got, ref, rtol * 5, atol * 5, `${op.name} ${describeCase(c)}`);
        expectBatched(op, gradInputs, attrs, ref, rtol * 5, atol * 5, `${op.name} ${describeCase(c)}`);
      }
    }
  });

  test('the 2-thread batched and heads backends split the work across their threads (after the property above)', () => {
    for (const engine of [batchedEngines[1]!, headsEngines[1]!]) {
      const [caller, worker] = engine.jobsPerThread();
      expect(caller).toBeGreaterThan(0);
      expect(worker).toBeGreaterThan(0);
    }
  });

  test('a causal query that sees no key (S < T) is NaN in the forward and poisons the gradients as the decomposition does', () => {
    const q = makeView([1, 2, 4, 3], 'dense', 'f64', 1, 'unit');
    const k = makeView([1, 1, 2, 3], 'dense', 'f64', 2, 'unit');
    const v = makeView([1, 1, 2, 3], 'dense', 'f64', 3);
    const attrs: AttentionAttrs = { causal: true, scale: 0.5, hasMask: false, dropoutP: 0, dropoutStream: undefined };
    const [out, want] = both(T.OPS.attentionForward as OpDef<AttentionAttrs>, [q, k, v], attrs);
    expect(out.slice(0, 4).every(Number.isNaN)).toBe(true);
    expectClose(out, want, 1e-12, 1e-14, 'forward');
    const packed = T.apply(T.OPS.attentionForward as OpDef<AttentionAttrs>, [q, k, v], attrs);
    const lse = T.tensor(logical(packed.slice(-1, 3, 4).reshape([1, 2, 4])), { shape: [1, 2, 4], dtype: 'f64' });
    const gradInputs = [q, k, v, makeView([1, 2, 4, 3], 'dense', 'f64', 4), lse, makeView([1, 2, 4], 'dense', 'f64', 5)];
    for (const op of [T.OPS.attentionGradQ, T.OPS.attentionGradKV] as OpDef<AttentionAttrs>[]) {
      const [got, ref] = both(op, gradInputs, attrs);
      expectClose(got, ref, 1e-10, 1e-12, op.name);
    }
  });

  test('with dropout the ops decompose on the CPU too (fusedWhen declines), drawing the same mask', () => {
    const q = makeView([1, 2, 3, 4], 'dense', 'f32', 7, 'unit');
    const k = makeView([1, 2, 5, 4], 'dense', 'f32', 8, 'unit');
    const v = makeView([1, 2, 5, 4], 'dense', 'f32', 9);
    const attrs: AttentionAttrs = { causal: false, scale: 0.5, hasMask: false, dropoutP: 0.3, dropoutStream: new T.Generator(5).next(2 * 3 * 5) };
    for (const op of [T.OPS.attention, T.OPS.attentionForward] as OpDef<AttentionAttrs>[]) {
      const [got, want] = both(op, [q, k, v], attrs);
      expectClose(got, want, 0, 0, op.name);
    }
  });

  test('scaledDotProductAttention on a model-sized head (f32, causal, GQA) equals the decomposition', () => {
    const q = makeView([2, 4, 33, 16], 'transposed', 'f32', 21, 'unit');
    const k = makeView([2, 2, 33, 16], 'dense', 'f32', 22, 'unit');
    const v = makeView([2, 2, 33, 16], 'sliced', 'f32', 23);
    const fused = logical(T.scaledDotProductAttention(q, k, v, undefined, { causal: true }));
    const want = logical(T.scaledDotProductAttention(onRef(q), onRef(k), onRef(v), undefined, { causal: true }));
    expectClose(fused, want, 2e-4, 2e-5, 'sdpa');
  });
});
