// Generated gpu.js kernel sources. Every kernel is one output element per thread over a flat output;
// shapes, strides and offsets travel in one small f32 table `m` (exact for integers below 2^24), so
// one compiled kernel serves every shape and layout. Sources are strings, not functions, so that no
// TypeScript or bundler transform can change what gpu.js parses.
import type { Shape, TensorView } from '@tessera/tensor';

/** The most dimensions an operand may have: the generated index arithmetic is unrolled to this rank. */
export const MAX_RANK = 6;

/**
 * Thrown for what gpu.js kernels cannot express: ranks above MAX_RANK, integer values beyond ±2^24
 * and tensors of more than 2^24 elements (exact-integers.ts); names the op and the fix.
 */
export class GpuJsUnsupportedError extends Error {
  override readonly name = 'GpuJsUnsupportedError';
}

/** The table of numbers a launch passes as its last argument `m`. */
export class MetaTable {
  readonly values: number[] = [];

  /** Appends numbers; returns the position of the first. */
  push(...xs: number[]): number {
    const at = this.values.length;
    this.values.push(...xs);
    return at;
  }

  /** Appends the output dims, padded with leading 1s to MAX_RANK. */
  dims(shape: Shape, what: string): number {
    return this.push(...padRank(shape, 1, what));
  }

  /** Appends per-dimension numbers (strides), padded with leading 0s to MAX_RANK. */
  strides(xs: readonly number[], what: string): number {
    return this.push(...padRank(xs, 0, what));
  }

  /**
   * Appends the strides of `view` aligned to `shape` (right-aligned; stride 0 where the view
   * broadcasts) and its offset: MAX_RANK + 1 numbers.
   */
  layout(view: Pick<TensorView, 'shape' | 'strides' | 'offset'>, shape: Shape, what: string): number {
    const lead = shape.length - view.shape.length;
    const strides = shape.map((d, i) => {
      const j = i - lead;
      if (j < 0) return 0;
      return view.shape[j] === 1 && d !== 1 ? 0 : view.strides[j]!;
    });
    return this.push(...padRank(strides, 0, what), view.offset);
  }

  /** The table as kernel argument. */
  toArray(): Float32Array {
    return Float32Array.from(this.values);
  }
}

function padRank(xs: readonly number[], fill: number, what: string): number[] {
  if (xs.length > MAX_RANK) {
    throw new GpuJsUnsupportedError(`${what}: rank ${xs.length} is above the gpujs backend's limit of ${MAX_RANK} dimensions; reshape to fewer dimensions or run this op on the cpu backend`);
  }
  return [...Array<number>(MAX_RANK - xs.length).fill(fill), ...xs];
}

/**
 * Code splitting the flat number in `from` into coordinates `${prefix}0..${prefix}5` over the dims
 * at m[at..at+5]. Division is rounded so that float quotients of exact integers never fall a hair
 * short of the next integer (GLSL division is not exact).
 */
export function coordsCode(at: number, prefix: string, from: string): string {
  const lines = [`let ${prefix}rem = ${from};`];
  for (let d = MAX_RANK - 1; d > 0; d--) {
    lines.push(`let ${prefix}quo${d} = Math.floor((${prefix}rem + 0.5) / m[${at + d}]);`);
    lines.push(`let ${prefix}${d} = ${prefix}rem - ${prefix}quo${d} * m[${at + d}];`);
    lines.push(`${prefix}rem = ${prefix}quo${d};`);
  }
  lines.push(`let ${prefix}0 = ${prefix}rem;`);
  return lines.join('\n');
}

/** Code for `let name = offset + Σ coord·stride` with the layout at m[at..at+6]. */
export function indexCode(name: string, at: number, prefix: string): string {
  const terms = Array.from({ length: MAX_RANK }, (_, d) => `${prefix}${d} * m[${at + d}]`);
  return `let ${name} = m[${at + MAX_RANK}] + ${terms.join(' + ')};`;
}

/** `a mod b` for non-negative integers held in floats (exact where the quotient rounds correctly). */
export function floorModCode(a: string, b: string): string {
  return `(${a} - Math.floor((${a} + 0.5) / ${b}) * ${b})`;
}

/** The standard head of a kernel: flat thread number `t` and output coordinates c0..c5 (dims at m[0..5]). */
export const OUTPUT_COORDS = `let t = this.thread.x * 1.0;\n${coordsCode(0, 'c', 't')}`;

/** A kernel function source over inputs x0..x{n-1} and the table m. */
export function kernelSource(inputs: number, body: string): string {
  const args = [...Array.from({ length: inputs }, (_, i) => `x${i}`), 'm'].join(', ');
  return `function(${args}) {\n${body}\n}`;
}
