import { describe, expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import { Generator, philox, streamWords, wordToInt, wordToUniform, wordsToNormal } from '@tessera/tensor';
import { logical } from './views.js';

describe('full / arange', () => {
  test('full fills every dtype, converting the value as a store would', () => {
    expect(logical(T.full([2, 2], 2.5, { dtype: 'f32' }))).toEqual([2.5, 2.5, 2.5, 2.5]);
    expect(logical(T.full([3], -2.7, { dtype: 'i32' }))).toEqual([-2, -2, -2]);
    expect(logical(T.full([2], 3, { dtype: 'bool' }))).toEqual([1, 1]);
    expect(logical(T.full([2], 1.5, { dtype: 'f16' }))).toEqual([0x3e00, 0x3e00]);
    expect(T.full([0, 3], 1).shape).toEqual([0, 3]);
    expect(logical(T.full([], 4, { dtype: 'f64' }))).toEqual([4]);
  });

  test('arange computes start + i * step (no accumulated error)', () => {
    expect(logical(T.arange(5))).toEqual([0, 1, 2, 3, 4]);
    expect(logical(T.arange(1, -2, -1))).toEqual([1, 0, -1]);
    const f = logical(T.arange(0, 1, 0.1, { dtype: 'f64' }));
    expect(f).toHaveLength(10);
    f.forEach((v, i) => expect(v).toBe(i * 0.1));
    expect(logical(T.arange(0))).toEqual([]);
  });
});

describe('random', () => {
  test('philox4x32-10 known answer: counter 0, key 0', () => {
    const w = new Uint32Array(4);
    philox(0, 0, 0, 0, w);
    expect([...w]).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
  });

  test('each kind draws element i from streamWords(stream, i) through the shared converters', () => {
    const stream = { seed: 1234, counter: 4294967290 }; // crosses the 32-bit counter boundary
    const n = 17;
    const w = new Uint32Array(4);
    const uniform = T.apply(T.OPS.random, [], { shape: [n], dtype: 'f64', kind: 'uniform', stream, low: 0, high: 1 });
    const normal = T.apply(T.OPS.random, [], { shape: [n], dtype: 'f64', kind: 'normal', stream, low: 0, high: 1 });
    const ints = T.apply(T.OPS.random, [], { shape: [n], dtype: 'i32', kind: 'int', stream, low: -3, high: 9 });
    const words = Array.from({ length: n }, (_, i) => [...streamWords(stream, i, w)]);
    expect(logical(uniform)).toEqual(words.map(([w0]) => wordToUniform(w0!)));
    expect(logical(normal)).toEqual(words.map(([w0, w1]) => wordsToNormal(w0!, w1!)));
    expect(logical(ints)).toEqual(words.map(([w0]) => wordToInt(w0!, -3, 9)));
  });

  test('same seed, same numbers; the sequence continues across draws and resumes from saved state', () => {
    const g1 = new Generator(42);
    const g2 = new Generator(42);
    const a = logical(T.randn([5, 3], { generator: g1 }));
    expect(logical(T.randn([5, 3], { generator: g2 }))).toEqual(a);
    const state = g1.getState();
    const next = logical(T.rand([4], { generator: g1 }));
    expect(next).not.toEqual(a.slice(0, 4));
    expect(logical(T.rand([4], { generator: new Generator().setState(state) }))).toEqual(next);
    expect(logical(T.randn([5, 3], { generator: new Generator(43) }))).not.toEqual(a);
  });

  test('distributions look right: uniform in [0,1), normal mean 0 / var 1, ints in [low, high)', () => {
    const g = new Generator(7);
    const u = logical(T.rand([20000], { generator: g }));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(Math.abs(u.reduce((s, v) => s + v, 0) / u.length - 0.5)).toBeLessThan(0.01);
    const z = logical(T.randn([20000], { generator: g }));
    const mean = z.reduce((s, v) => s + v, 0) / z.length;
    const variance = z.reduce((s, v) => s + (v - mean) ** 2, 0) / z.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    const r = logical(T.randint(-2, 3, [5000], { generator: g }));
    expect(new Set(r)).toEqual(new Set([-2, -1, 0, 1, 2]));
  });
});
