// Multi-tensor AdamW (Backend.adamwUpdateMany through T.adamwSteps, what @tessera/optim's AdamW calls
// once per step) against the CPU's per-parameter adamwStep: random sets of many parameters of odd
// sizes with per-parameter hyperparameters, over two steps (the second reads m and v from the first
// step's arena in place), in one dispatch per group whatever the number of tensors.
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { AdamWHyper, Tensor } from '@tessera/tensor';
import { expectSame, gpuOrNull, makeView, numRuns } from './cross-backend.js';

const gpu = await gpuOrNull();
// Bindings capped at 4 KiB: a group holds at most 341 elements, so parameter sets split into groups
// and parameters over that take the per-tensor kernel (which splits over windows).
const small = await gpuOrNull({ name: 'webgpu-small', bindingLimitBytes: 4096 });
afterAll(() => {
  gpu?.destroy();
  small?.destroy();
});

interface State {
  p: Tensor;
  m: Tensor;
  v: Tensor;
}

/** Runs `steps` AdamW steps over the parameters on `device` with adamwSteps; returns the final states. */
function train(device: string, shapes: readonly number[][], hypers: readonly Omit<AdamWHyper, 'step'>[], seed: number, steps: number, counts?: { dispatches: number; copies: number }[]): State[] {
  let states: State[] = shapes.map((shape, i) => ({
    p: makeView(device, shape, 'dense', 'f32', seed + 4 * i),
    m: T.zeros(shape, { device }),
    v: T.zeros(shape, { device }),
  }));
  for (let step = 1; step <= steps; step++) {
    const grads = shapes.map((shape, i) => makeView(device, shape, 'dense', 'f32', seed + 4 * i + step));
    const next: State[] = [];
    const count = countDispatches(() =>
      T.adamwSteps(
        states.map((s, i) => ({ param: s.p, grad: grads[i]!, m: s.m, v: s.v, hyper: { ...hypers[i]!, step } })),
        (i, r) => (next[i] = { p: r.param, m: r.m, v: r.v }),
      ),
    );
    counts?.push(count);
    for (const s of states) T.dispose([s.p, s.m, s.v]);
    T.dispose(grads);
    states = next;
  }
  return states;
}

const shapeArb = fc.oneof(
  fc.integer({ min: 1, max: 700 }).map((n) => [n]),
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 67 })).map(([a, b]) => [a, b]),
);
const hyperArb = fc.record({
  lr: fc.constantFrom(1e-3, 3e-3, 0.1),
  beta1: fc.constantFrom(0.9, 0.85),
  beta2: fc.constantFrom(0.999, 0.99),
  eps: fc.constantFrom(1e-8, 1e-6),
  weightDecay: fc.constantFrom(0, 0.01, 0.1),
});

async function expectStates(cpu: State[], gpuStates: State[]): Promise<void> {
  for (let i = 0; i < cpu.length; i++) {
    await expectSame(cpu[i]!.m, gpuStates[i]!.m, `m[${i}]`);
    await expectSame(cpu[i]!.v, gpuStates[i]!.v, `v[${i}]`);
    await expectSame(cpu[i]!.p, gpuStates[i]!.p, `param[${i}]`);
  }
}

describe.skipIf(gpu === null)('multi-tensor AdamW on WebGPU', () => {
  test('equals the CPU per-parameter AdamW over random parameter sets, two steps', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(shapeArb, hyperArb), { minLength: 1, maxLength: 14 }), fc.integer({ min: 1, max: 1000 }), async (params, seed) => {
        const shapes = params.map(([s]) => s);
        const hypers = params.map(([, h]) => h);
        const cpu = train('cpu', shapes, hypers, seed, 2);
        const g = train('webgpu', shapes, hypers, seed, 2);
        try {
          await expectStates(cpu, g);
        } finally {
          for (const s of [...cpu, ...g]) T.dispose([s.p, s.m, s.v]);
        }
      }),
      { numRuns: numRuns() },
    );
  });

  test('a step over 60 parameters is one dispatch; from the second step m and v are read in place', async () => {
    const shapes = Array.from({ length: 60 }, (_, i) => [1 + ((i * 37) % 53), 3 + (i % 5)]);
    const hypers = shapes.map((_, i) => ({ lr: 1e-3, weightDecay: i % 3 === 0 ? 0 : 0.01 }));
    const counts: { dispatches: number; copies: number }[] = [];
    const states = train('webgpu', shapes, hypers, 7, 3, counts);
    expect(counts.map((c) => c.dispatches)).toEqual([1, 1, 1]);
    // Step 1 copies params, grads and the (zero) moments in and the params out; later steps leave m and v in place.
    expect(counts.map((c) => c.copies)).toEqual([5 * 60, 3 * 60, 3 * 60]);
    const cpu = train('cpu', shapes, hypers, 7, 3);
    await expectStates(cpu, states);
    for (const s of [...cpu, ...states]) T.dispose([s.p, s.m, s.v]);
  });

  test('leaks no buffers: a state arena is freed with the last m or v that views it', async () => {
    const shapes = [[33], [5, 7], [1]];
    const hypers = shapes.map(() => ({ lr: 1e-2 }));
    await gpu!.sync!();
    const before = gpu!.memory().liveBytes;
    const states = train('webgpu', shapes, hypers, 3, 3);
    for (const s of states) T.dispose([s.p, s.m, s.v]);
    await gpu!.sync!();
    expect(gpu!.memory().liveBytes).toBe(before);
  });
});

describe.skipIf(gpu === null)('reading the moments', () => {
  test('an m or v viewing an arena reads only its own block back (Backend.readRange), not the arena', async () => {
    const shapes = [[300], [7], [5, 9]];
    const states = train('webgpu', shapes, shapes.map(() => ({ lr: 1e-2 })), 5, 1);
    const cpu = train('cpu', shapes, shapes.map(() => ({ lr: 1e-2 })), 5, 1);
    const ctx = gpu!.context;
    const read = ctx.read.bind(ctx);
    const bytes: number[] = [];
    ctx.read = (buffer, offset, n) => {
      bytes.push(n);
      return read(buffer, offset, n);
    };
    try {
      await expectSame(cpu[1]!.v, states[1]!.v, 'v[1]');
    } finally {
      ctx.read = read;
      for (const s of [...cpu, ...states]) T.dispose([s.p, s.m, s.v]);
    }
    expect(bytes).toEqual([7 * 4]);
  });
});

describe.skipIf(small === null)('multi-tensor AdamW under a 4 KiB binding limit', () => {
  test('splits parameter sets into groups and leaves big parameters to the per-tensor kernel; equals the CPU', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(shapeArb, hyperArb), { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 1000 }), async (params, seed) => {
        const shapes = params.map(([s]) => s);
        const hypers = params.map(([, h]) => h);
        const cpu = train('cpu', shapes, hypers, seed, 2);
        const g = train('webgpu-small', shapes, hypers, seed, 2);
        try {
          await expectStates(cpu, g);
        } finally {
          for (const s of [...cpu, ...g]) T.dispose([s.p, s.m, s.v]);
        }
      }),
      { numRuns: Math.min(numRuns(), 25) },
    );
  });
});

/** Dispatches and copies `fn` records on the default WebGPU backend. */
function countDispatches(fn: () => void): { dispatches: number; copies: number } {
  if (!gpu) return { dispatches: 0, copies: 0 };
  const { counters } = gpu.context;
  const d = counters.dispatches;
  const c = counters.copies;
  fn();
  return { dispatches: counters.dispatches - d, copies: counters.copies - c };
}
