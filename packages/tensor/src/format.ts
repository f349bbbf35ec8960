import type { DType } from './dtype.js';

interface Printable {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: string;
  readonly requiresGrad: boolean;
}

const EDGE = 3; // elements shown at each end of an elided dimension, as PyTorch does
const THRESHOLD = 1000; // PyTorch's default: elide once a tensor has more elements than this

type FloatMode = 'int' | 'fixed' | 'sci';

/** PyTorch picks one style for the whole tensor: `1.` when all are integers, else 4 decimals, else scientific. */
function floatMode(values: ArrayLike<number>): FloatMode {
  let allInt = true;
  let maxAbs = 0;
  let minAbs = Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (!Number.isInteger(v)) allInt = false;
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
    if (a !== 0 && a < minAbs) minAbs = a;
  }
  if (allInt && maxAbs < 1e8) return 'int';
  if (maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity) || maxAbs / minAbs > 1000) return 'sci';
  return 'fixed';
}

function formatNumber(v: number, dtype: DType, mode: FloatMode): string {
  if (dtype === 'bool') return v ? 'True' : 'False';
  if (dtype === 'i32' || dtype === 'u32' || dtype === 'u8') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (mode === 'int') return `${v}.`;
  if (mode === 'sci') return v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2');
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
  const mode = floatMode(values);
  const strs = Array.from(values, (v) => formatNumber(v, t.dtype, mode));
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
