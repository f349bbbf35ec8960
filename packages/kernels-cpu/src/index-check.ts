// Out-of-range indices are caller errors worth a precise message: which op, which value, where
// in the index tensor, and what range was valid.
import { fmtShape, type Shape } from '@tessera/tensor';
import { unravel } from './strided.js';

/** Throws a RangeError naming the op, the bad index, its position in the index tensor and the valid range. */
export function indexOutOfRange(op: string, value: number, flat: number, indexShape: Shape, axis: number, size: number): never {
  const where = fmtShape(unravel(flat, indexShape));
  const hint = value < 0 ? '; negative indices are not allowed' : '';
  throw new RangeError(
    `${op}: index ${value} at position ${where} of the index ${fmtShape(indexShape)} is out of range for axis ${axis} of size ${size}; ` +
      `expected 0 <= index < ${size}${hint}`,
  );
}
