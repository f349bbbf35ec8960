// Walks the lanes of a shape along one axis (the rows a softmax or a norm works on): the body gets
// each operand's offset of the lane's first element and steps along the axis with the operand's
// own axis stride. Built on forEachRow, so any strides, broadcasts and offsets work.
import type { Shape } from '@tessera/tensor';
import { forEachRow } from './strided.js';

/** Called once per lane with each operand's offset of the lane's first element. */
export type LaneBody = (offsets: readonly number[]) => void;

/**
 * Calls `body` for every lane of `shape` along `axis` (none when any dim is 0). `strides[j]` are
 * operand j's strides over `shape` (0 where it broadcasts), `starts[j]` its offset of element 0.
 */
export function forEachLane(shape: Shape, axis: number, strides: readonly (readonly number[])[], starts: readonly number[], body: LaneBody): void {
  if (shape.some((d) => d === 0)) return;
  const outer = shape.map((d, i) => (i === axis ? 1 : d));
  const lane = starts.map(() => 0);
  forEachRow(outer, strides, starts, (offs, n, inner) => {
    for (let t = 0; t < n; t++) {
      for (let j = 0; j < lane.length; j++) lane[j] = offs[j]! + t * inner[j]!;
      body(lane);
    }
  });
}
