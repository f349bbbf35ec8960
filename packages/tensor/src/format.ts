import type { DType } from './dtype.js';

interface Printable {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: string;
  readonly requiresGrad: boolean;
}

const EDGE = 3; // elements shown at each end of an elided dimension, as PyTorch does
const THRESHOLD = 1000; // PyTorch's default: elide once a tensor has more elements than this

function formatNumber(v: number, dtype: DType): string {
  if (dtype === 'bool') return v ? 'True' : 'False';
  if (dtype === 'i32' || dtype === 'u32' || dtype === 'u8') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e8) return `${v}.`;
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e8)) return v.toExponential(4);
  return v.toFixed(4);
}

/** Formats a tensor like PyTorch: `tensor([[1., 2.], ...], dtype=f32)`, eliding the middle of large dims. */
export function formatTensor(t: Printable, values: ArrayLike<number> | null): string {
  const extras: string[] = [];
  if (t.shape.length !== 1 || values === null) extras.push(`shape=[${t.shape.join(', ')}]`);
  extras.push(`dtype=${t.dtype}`);
  if (t.device !== 'cpu') extras.push(`device=${t.device}`);
  if (t.requiresGrad) extras.push('requiresGrad=true');
  if (values === null) return `tensor(<on ${t.device}; await tensor.data() to read>, ${extras.join(', ')})`;
  const elide = values.length > THRESHOLD;
  const strs = Array.from(values, (v) => formatNumber(v, t.dtype));
  const width = Math.max(1, ...strs.map((s) => s.length));
  const rank = t.shape.length;
  const strides: number[] = new Array(rank);
  for (let d = rank - 1, s = 1; d >= 0; d--) {
    strides[d] = s;
    s *= t.shape[d]!;
  }
  const indent = ' '.repeat('tensor('.length);
  const render = (dim: number, offset: number): string => {
    if (dim === rank) return strs[offset]!.padStart(width);
    const n = t.shape[dim]!;
    const idx: (number | null)[] = [];
    if (elide && n > 2 * EDGE) {
      for (let i = 0; i < EDGE; i++) idx.push(i);
      idx.push(null);
      for (let i = n - EDGE; i < n; i++) idx.push(i);
    } else for (let i = 0; i < n; i++) idx.push(i);
    const parts = idx.map((i) => (i === null ? '...' : render(dim + 1, offset + i * strides[dim]!)));
    if (dim === rank - 1) return `[${parts.join(', ')}]`;
    const sep = ',' + '\n'.repeat(rank - dim - 1) + indent + ' '.repeat(dim + 1);
    return `[${parts.join(sep)}]`;
  };
  return `tensor(${render(0, 0)}, ${extras.join(', ')})`;
}
