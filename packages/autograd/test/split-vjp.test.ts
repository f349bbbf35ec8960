// The gradient of a split (a fused QKV projection cut into q, k and v) is one concat of the chunks'
// gradients, as PyTorch's split_backward does, not a zero-padded copy per chunk added together: the
// pad, concat and add kernels the backend is asked for are recorded and checked.
import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, OPS, add, concat, mul, narrow, pad, randn, registerBackend, setBackend, slice, split, sum, tidy, zeros, type Kernel, type OpDef, type Tensor } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { grad } from '../src/index.js';

const ran: string[] = [];
const take = (): string[] => ran.splice(0);

beforeAll(() => {
  const backend = createCpuBackend({ name: 'cpu-split-kernels' });
  const kernels = backend.kernels as Map<OpDef, Kernel>;
  for (const op of [OPS.pad, OPS.concat, OPS.add]) {
    const kernel = kernels.get(op)!;
    kernels.set(op, (inputs, attrs, out) => (ran.push(op.name), kernel(inputs, attrs, out)));
  }
  registerBackend(backend);
  setBackend('cpu-split-kernels');
});

const gen = new Generator(5);
const rand = (shape: number[]): Tensor => randn(shape, { generator: gen, dtype: 'f64' });

function expectEqual(a: Tensor, b: Tensor): void {
  expect(a.shape).toEqual(b.shape);
  expect(Array.from(a.dataSync() as Float64Array)).toEqual(Array.from(b.dataSync() as Float64Array));
}

describe('split vjp', () => {
  it('joins the q, k and v gradients of a fused (B, T, 3C) projection with one concat', () => {
    tidy(() => {
      const qkv = rand([2, 3, 12]);
      const [dq, dk, dv] = [rand([2, 3, 4]), rand([2, 3, 4]), rand([2, 3, 4])];
      take();
      const [dqkv] = grad((x) => {
        const [q, k, v] = split(x, 4, 2) as [Tensor, Tensor, Tensor];
        return add(add(sum(mul(q, dq)), sum(mul(k, dk))), sum(mul(v, dv)));
      })(qkv) as [Tensor];
      expect(take().filter((k) => k !== 'add')).toEqual(['concat']); // no pad
      expectEqual(dqkv, concat([dq, dk, dv], 2));
    });
  });

  it('fills the rows no chunk gradient reached with zeros inside the same concat', () => {
    tidy(() => {
      const x = rand([5, 3]);
      const d = rand([2, 3]);
      take();
      const [dx] = grad((a) => sum(mul(split(a, [1, 2, 2])[1]!, d)))(x) as [Tensor];
      expect(take()).toEqual(['concat']);
      expectEqual(dx, concat([zeros([1, 3], { dtype: 'f64' }), d, zeros([2, 3], { dtype: 'f64' })]));
    });
  });

  it('adds a gradient from another consumer once, after the join', () => {
    tidy(() => {
      const x = rand([4, 2]);
      const [d0, d1] = [rand([2, 2]), rand([2, 2])];
      take();
      const [dx] = grad((a) => {
        const [p, q] = split(a, 2) as [Tensor, Tensor];
        return add(add(sum(mul(p, d0)), sum(mul(q, d1))), sum(a));
      })(x) as [Tensor];
      expect(take().filter((k) => k !== 'add').sort()).toEqual(['concat']);
      expectEqual(dx, add(concat([d0, d1]), 1));
    });
  });

  it('pads and sums overlapping blocks and blocks along different axes', () => {
    tidy(() => {
      const x = rand([3, 4]);
      const [d0, d1] = [rand([2, 4]), rand([3, 1])];
      const [dx] = grad((a) => add(sum(mul(narrow(a, 0, 1, 2), d0)), sum(mul(slice(a, 1, 2, 3), d1))))(x) as [Tensor];
      expectEqual(dx, add(pad(d0, [[1, 0], [0, 0]]), pad(d1, [[0, 0], [2, 1]])));
    });
  });
});
