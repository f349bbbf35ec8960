import { beforeAll, describe, expect, it } from 'vitest';
import { add, dispose, keep, memory, memoryScope, mul, ones, tidy, zeros, reshape } from '../src/index.js';
import { useCpu } from './cpu-backend.js';
import { settleDroppedTensors } from './settle-dropped.js';

beforeAll(useCpu);

describe('memory', () => {
  it('tidy disposes everything but the result', () => {
    const before = memory().numTensors;
    const out = tidy(() => {
      const a = ones([4, 4]);
      const b = mul(a, 3);
      return add(b, 1);
    });
    expect(memory().numTensors).toBe(before + 1);
    out.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('keep saves a tensor from the scope; results in objects survive', () => {
    const before = memory().numTensors;
    let kept = null as unknown as ReturnType<typeof ones>;
    const res = tidy(() => {
      kept = keep(ones([2]));
      return { a: zeros([3]), list: [ones([1])] };
    });
    expect(memory().numTensors).toBe(before + 3);
    dispose([kept, res]);
    expect(memory().numTensors).toBe(before);
  });

  it('counts bytes per backend and frees storage when the last view goes', () => {
    const base = memory();
    const x = zeros([10], { dtype: 'f64' });
    const v = reshape(x, [2, 5]);
    expect(memory().backends.cpu!.numBytes - (base.backends.cpu?.numBytes ?? 0)).toBe(80);
    x.dispose();
    expect(memory().backends.cpu!.numBytes - (base.backends.cpu?.numBytes ?? 0)).toBe(80); // still viewed
    v.dispose();
    v.dispose(); // idempotent
    expect(memory().numBytes).toBe(base.numBytes);
  });

  it('a `using` scope disposes on block exit', () => {
    const before = memory().numTensors;
    let survivor;
    {
      using scope = memoryScope();
      const a = ones([3]);
      survivor = scope.keep(mul(a, 2));
    }
    expect(memory().numTensors).toBe(before + 1);
    survivor.dispose();
  });

  it('a tensor the garbage collector releases leaves numTensors but stays counted in numUndisposed', async () => {
    // Collects until a sentinel was finalized, until the live count stops moving.
    const settle = () => settleDroppedTensors(() => memory().numTensors);
    await settle(); // earlier tests' dropped tensors
    const before = memory();
    (() => void zeros([1000]))(); // dropped without dispose
    expect(memory().numUndisposed).toBe(before.numUndisposed + 1);
    await settle();
    expect(memory().numTensors).toBe(before.numTensors);
    expect(memory().numBytes).toBe(before.numBytes);
    expect(memory().numUndisposed).toBe(before.numUndisposed + 1);
    expect(memory().backends.cpu!.numUndisposed - before.backends.cpu!.numUndisposed).toBe(1);
    const x = zeros([2]);
    x.dispose();
    expect(memory().numUndisposed).toBe(before.numUndisposed + 1); // create + dispose cancel
  });

  it('a disposed input gives a clear error', () => {
    const a = ones([2]);
    a.dispose();
    expect(() => add(a, 1)).toThrow(/add: input 0 \(shape \[2\]\) was already disposed/);
  });

  it('tidy rejects async functions', () => {
    expect(() => tidy(() => Promise.resolve(1) as unknown as number)).toThrow(/returned a Promise/);
  });
});
