/** A tensor's dimensions, outermost first. */
export type Shape = readonly number[];

/** Number of elements in a shape (1 for a scalar). */
export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides (in elements) of a contiguous tensor of this shape. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** True when the strides describe a dense row-major layout (size-1 dims may have any stride). */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d === 1) continue;
    if (d === 0) return true;
    if (strides[i] !== expected) return false;
    expected *= d;
  }
  return true;
}

/** Throws a clear error unless `shape` is a list of non-negative integers. */
export function assertShape(shape: unknown, where: string): asserts shape is Shape {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`${where}: invalid shape ${JSON.stringify(shape)}; expected an array of non-negative integers`);
  }
}

/** The broadcast shape of two shapes by NumPy rules, or a clear error naming both. */
export function broadcastShapes(a: Shape, b: Shape, where = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(
        `${where}: shapes [${a.join(',')}] and [${b.join(',')}] do not broadcast (dim ${i - n}: ${da} vs ${db}); ` +
          'expected equal sizes or size 1 in each trailing dimension',
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Normalises a possibly negative axis into [0, rank), with a clear error when out of range. */
export function normalizeAxis(axis: number, rank: number, where: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new RangeError(`${where}: axis ${axis} is out of range for a tensor of rank ${rank}; expected -${rank} <= axis < ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalises an axis list (undefined = all axes) into sorted, unique, non-negative axes. */
export function normalizeAxes(axes: number | readonly number[] | undefined, rank: number, where: string): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normalizeAxis(a, rank, where)))].sort((x, y) => x - y);
  if (out.length !== list.length) throw new RangeError(`${where}: repeated axis in [${list.join(',')}]; each axis may appear once`);
  return out;
}

/** The shape after reducing `axes` (kept as size 1 when keepDims). */
export function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (axes.includes(i)) {
      if (keepDims) out.push(1);
    } else out.push(d);
  });
  return out;
}

/** Equality of two shapes. */
export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Formats a shape the way error messages print it: `[2,3]`. */
export function fmtShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}
