// The fused CPU AdamW update (Backend.adamwUpdate, src/adamw-update.ts) held to the composed
// adamwStep bit for bit, over random shapes (empty and odd ones included), values and hyperparameters.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { Tensor } from '@tessera/tensor';
import { createCpuBackend } from '../src/index.js';
import { expectIdentical } from './identical-arrays.js';
import { layoutArb, logical, makeView, numRuns, seedArb, shapeArb, type Layout } from './views.js';


// views.ts registers the default 'cpu' backend (fused); this one composes the update from ops.
T.registerBackend(createCpuBackend({ name: 'cpu-composed-adamw', fusedAdamW: false }));

const hyperArb = fc.record({
  lr: fc.double({ min: 1e-5, max: 0.1, noNaN: true }),
  beta1: fc.constantFrom(0.9, 0.8, 0.95),
  beta2: fc.constantFrom(0.999, 0.99, 0.95),
  eps: fc.constantFrom(1e-8, 1e-6),
  weightDecay: fc.constantFrom(0, 0.01, 0.1),
  step: fc.integer({ min: 1, max: 2000 }),
});

/** The same logical values as `t`, as a dense tensor on `device`. */
const on = (t: Tensor, device: string): Tensor => T.tensor(logical(t), { shape: [...t.shape], dtype: 'f32', device });

/** New param, m and v (logical values); v starts as |v| so its square root is defined. */
function update(p: Tensor, g: Tensor, m: Tensor, v: Tensor, h: T.AdamWHyper): number[][] {
  const r = T.adamwStep(p, g, m, v, h);
  return [logical(r.param), logical(r.m), logical(r.v)];
}

/** The fused update's param, m and v (`fused`) bit for bit those of the composed one. */
function expectSameUpdate(fused: number[][], composed: number[][], what: string): void {
  ['param', 'm', 'v'].forEach((name, k) => expectIdentical(fused[k]!, composed[k]!, `${name} (${what})`, 'the composed update'));
}

describe('fused CPU AdamW', () => {
  test('the backend offers adamwUpdate unless fusedAdamW is false', () => {
    expect(createCpuBackend().adamwUpdate).toBeTypeOf('function');
    expect(createCpuBackend({ fusedAdamW: false }).adamwUpdate).toBeUndefined();
  });

  test('equals the composed update bit for bit (dense operands, any offset)', () => {
    fc.assert(
      fc.property(shapeArb(3, 9), fc.array(fc.tuple(seedArb, fc.constantFrom<Layout>('dense', 'offset')), { minLength: 4, maxLength: 4 }), hyperArb, (shape, operands, h) => {
        const [p, g, m, v] = operands.map(([s, layout], k) => (k === 3 ? makeView(shape, layout, 'f32', s, 'positive') : makeView(shape, layout, 'f32', s)));
        const composed = update(on(p!, 'cpu-composed-adamw'), on(g!, 'cpu-composed-adamw'), on(m!, 'cpu-composed-adamw'), on(v!, 'cpu-composed-adamw'), h);
        expectSameUpdate(update(p!, g!, m!, v!, h), composed, `[${shape}] ${JSON.stringify(h)}`);
      }),
      { numRuns: numRuns() },
    );
  });

  test('large parameters (the WebAssembly SIMD update, in 16384-element chunks) equal the composed update bit for bit, as does the TypeScript loop (wasm: false)', () => {
    const tsOnly = T.registerBackend(createCpuBackend({ name: 'cpu-ts-adamw', wasm: false }));
    const sizeArb = fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 16380, max: 40000 }));
    fc.assert(
      fc.property(sizeArb, fc.array(fc.tuple(seedArb, fc.constantFrom<Layout>('dense', 'offset')), { minLength: 4, maxLength: 4 }), hyperArb, (n, operands, h) => {
        const [p, g, m, v] = operands.map(([s, layout], k) => makeView([n], layout, 'f32', s, k === 3 ? 'positive' : 'real'));
        const composed = update(on(p!, 'cpu-composed-adamw'), on(g!, 'cpu-composed-adamw'), on(m!, 'cpu-composed-adamw'), on(v!, 'cpu-composed-adamw'), h);
        expectSameUpdate(update(p!, g!, m!, v!, h), composed, `[${n}] ${JSON.stringify(h)}`);
        expectSameUpdate(update(on(p!, tsOnly.name), on(g!, tsOnly.name), on(m!, tsOnly.name), on(v!, tsOnly.name), h), composed, `[${n}] TypeScript loop`);
      }),
      { numRuns: Math.max(10, Math.floor(numRuns() / 4)) },
    );
  });

  test('strided operands (transposed, sliced, broadcast) are declined and composed instead', () => {
    fc.assert(
      fc.property(shapeArb(3, 6), layoutArb, fc.integer({ min: 0, max: 3 }), fc.array(seedArb, { minLength: 4, maxLength: 4 }), hyperArb, (shape, layout, which, seeds, h) => {
        const views = seeds.map((s, k) => makeView(shape, k === which ? (layout as Layout) : 'dense', 'f32', s, k === 3 ? 'positive' : 'real'));
        const [p, g, m, v] = views as [Tensor, Tensor, Tensor, Tensor];
        const composed = update(on(p, 'cpu-composed-adamw'), on(g, 'cpu-composed-adamw'), on(m, 'cpu-composed-adamw'), on(v, 'cpu-composed-adamw'), h);
        expectSameUpdate(update(p, g, m, v, h), composed, `${layout} operand ${which} [${shape}]`);
      }),
      { numRuns: numRuns() },
    );
  });
});
