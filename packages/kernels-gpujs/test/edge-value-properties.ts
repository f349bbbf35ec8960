// Rounding into f16 and bf16 at the edges of the f32 range, on any gpujs backend. The random
// properties rarely draw these values, and GPUs treat them differently from the CPU: they flush f32
// subnormals to zero, so a rounding step of 2^-133 (bf16 near its smallest normal) once divided
// values into NaN on WebGL (a CI failure of `full` in bf16), and Infinity became NaN. Each value goes through `full` and `cast` and must equal the CPU's
// result. Only `test` and `expect(..).toEqual` are used, so the browser page can run it.
import { expect, test } from 'vitest';
import * as T from '@tessera/tensor';

/** Smallest normals, the largest finite f32 and bf16, f16's overflow threshold, infinities. */
const EDGE_VALUES = [
  1.1754943508222875e-38, -1.1709025059494647e-38, 2.4e-38, -3e-38, 5.9e-39, 1e-30,
  6e-8, -6.1e-5, 65504, 65519, -65520, 1e5, 3.3895313892515355e38, -3.4e38,
  Infinity, -Infinity, 0, -0, 0.1, -300,
];

/** Registers the edge-value test for the backend named `device`. */
export function edgeValueProperties(device: string): void {
  test('full and cast round edge values (smallest normals, largest finite, infinities) into f16 and bf16 as the CPU does', async () => {
    const mismatches: string[] = [];
    /** Each edge value taken into `dtype` by `full` and by `cast`, as numbers. */
    const round = async (dev: string, dtype: 'f16' | 'bf16'): Promise<number[][]> => {
      const [full, cast] = T.tidy(() => [T.stack(EDGE_VALUES.map((v) => T.full([], v, { dtype, device: dev }))), T.cast(T.tensor(EDGE_VALUES, { dtype: 'f32', device: dev }), dtype)]);
      try {
        return [Array.from((await full!.data()) as ArrayLike<number>), Array.from((await cast!.data()) as ArrayLike<number>)];
      } finally {
        full!.dispose();
        cast!.dispose();
      }
    };
    for (const dtype of ['f16', 'bf16'] as const) {
      const cpu = await round('cpu', dtype);
      const other = await round(device, dtype);
      ['full', 'cast'].forEach((op, k) =>
        EDGE_VALUES.forEach((v, i) => {
          const [a, b] = [cpu[k]![i]!, other[k]![i]!];
          // -0 and 0 are one value here, as in expectSame. GPUs hold no subnormals: where the input
          // or the CPU's result is one, 0 is the GPU's answer.
          const subnormal = (x: number) => x !== 0 && Math.abs(x) < 2 ** -126;
          if (b === 0 && (subnormal(v) || subnormal(a))) return;
          if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) mismatches.push(`${op} ${v} to ${dtype}: cpu ${a}, ${device} ${b}`);
        }),
      );
    }
    expect(mismatches).toEqual([]);
  });
}
