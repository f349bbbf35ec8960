// Throughput of the table-driven elementwise kernels and a reduction on 1M f32 elements:
//   cd packages/kernels-cpu && npx vitest run --config bench/vitest.config.ts
import { test } from 'vitest';
import * as T from '@tessera/tensor';
import { createCpuBackend } from '../src/index.js';

T.registerBackend(createCpuBackend());

function timeIt(label: string, fn: () => T.Tensor, elements: number): string {
  fn().dispose();
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    fn().dispose();
    best = Math.min(best, performance.now() - t0);
  }
  return `${label}: ${best.toFixed(2)} ms (${(elements / best / 1e3).toFixed(0)} M elements/s)`;
}

test('elementwise and reduction throughput (f32, 1M elements)', () => {
  const n = 1 << 20;
  const x = T.rand([1024, 1024]);
  const y = T.rand([1024, 1024]);
  const row = T.rand([1024]);
  const xt = x.T;
  const lines = [
    timeIt('add dense', () => T.add(x, y), n),
    timeIt('add broadcast row', () => T.add(x, row), n),
    timeIt('add transposed', () => T.add(xt, y), n),
    timeIt('exp dense', () => T.exp(x), n),
    timeIt('exp transposed', () => T.exp(xt), n),
    timeIt('sum last axis', () => T.sum(x, 1), n),
    timeIt('sum first axis', () => T.sum(x, 0), n),
    timeIt('copy transposed', () => T.clone(xt), n),
  ];
  console.log(lines.join('\n'));
});
