// Recycling freed f32 arrays (src/f32-array-pool.ts): a reused array never leaks stale values into
// a result, and nothing a caller already read changes when its array is reused.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { Tensor } from '@tessera/tensor';
import { createCpuBackend } from '../src/index.js';
import { clearF32Pool, pooledF32Bytes } from '../src/f32-array-pool.js';
import { logical, makeView, numRuns, seedArb, type Layout } from './views.js';

T.registerBackend(createCpuBackend({ name: 'cpu-no-recycle', recycle: false }));

describe('recycled f32 result arrays', () => {
  test('a disposed result is pooled and taken by the next result of its size', () => {
    clearF32Pool();
    const a = T.randn([64, 64], { generator: new T.Generator(1) });
    const b = T.mul(a, 2);
    const before = [...b.dataSync()];
    b.dispose();
    expect(pooledF32Bytes()).toBe(64 * 64 * 4);
    const c = T.add(a, 1);
    expect(pooledF32Bytes()).toBe(0);
    expect([...c.dataSync()]).toEqual([...a.dataSync()].map((x) => Math.fround(x + 1)));
    // What was read before the dispose is a copy: reusing the array did not touch it.
    expect(before).toEqual([...a.dataSync()].map((x) => Math.fround(x * 2)));
    a.dispose();
    c.dispose();
  });

  test('an async read started before a dispose still sees the values of that moment', async () => {
    const a = T.randn([64, 64], { generator: new T.Generator(2) });
    const b = T.mul(a, 3);
    const expected = [...b.dataSync()];
    const pending = b.data();
    b.dispose();
    // The next result of this size takes b's recycled array and overwrites it before the read resolves.
    const c = T.mul(a, -1);
    expect([...((await pending) as Float32Array)]).toEqual(expected);
    a.dispose();
    c.dispose();
  });

  test('small, non-f32 and recycle: false storages are not pooled', () => {
    clearF32Pool();
    T.ones([10]).dispose();
    T.ones([4096], { dtype: 'f64' }).dispose();
    T.ones([4096], { device: 'cpu-no-recycle' }).dispose();
    expect(pooledF32Bytes()).toBe(0);
  });

  test('chains of ops with disposals in between equal the same chains without recycling', () => {
    const ops: ((x: Tensor, y: Tensor) => Tensor)[] = [
      (x, y) => T.add(x, y),
      (x, y) => T.mul(x, y.slice(0, 0, 1)),
      (x) => T.exp(T.neg(T.abs(x))),
      (x) => T.sum(x, [1], true).add(x),
      (x, y) => T.where(T.gt(x, 0), x, y),
      (x) => x.permute([1, 0]).contiguous().permute([1, 0]),
      (x, y) => T.matmul(x, y.slice(0, 0, 40)).add(x),
    ];
    fc.assert(
      fc.property(fc.integer({ min: 40, max: 70 }), fc.array(fc.nat(ops.length - 1), { minLength: 1, maxLength: 12 }), seedArb, fc.constantFrom<Layout>('dense', 'transposed'), (n, program, seed, layout) => {
        const run = (device: string): number[] => {
          T.setBackend(device);
          const y = makeView([n, 40], layout, 'f32', seed + 1);
          let x = makeView([n, 40], 'dense', 'f32', seed);
          for (const k of program) {
            const next = ops[k]!(x, y);
            x.dispose();
            x = next;
          }
          const out = logical(x);
          x.dispose();
          y.dispose();
          T.setBackend('cpu');
          return out;
        };
        expect(run('cpu')).toEqual(run('cpu-no-recycle'));
      }),
      { numRuns: numRuns() },
    );
  });
});
