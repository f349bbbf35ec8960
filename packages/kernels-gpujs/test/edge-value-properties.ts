// Casts at the edges, on any gpujs backend, held to the CPU backend's results. The random properties
// rarely draw these values, and GPUs treat them differently from the CPU: they flush f32 subnormals to
// zero, so a rounding step of 2^-133 (bf16 near its smallest normal) once divided values into NaN on
// WebGL (a CI failure of `full` in bf16), and Infinity became NaN; NaN became 0 in f16/bf16, FLT_MAX
// stayed finite in cpu mode, and -1 cast to u32 read back 0.
// Every result is compared twice: as read back (data()) and as cast to f32 on the device first. Read
// back alone, gpujs's host conversion (fromValues re-rounds f16/bf16, truncates integers, maps bool)
// hid a cast kernel that did nothing at all; the f32 view shows the values later ops compute with.
// Only `test` and `expect(..).toEqual` are used, so the browser page can run it.
import { expect, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { DType } from '@tessera/tensor';

/** Smallest normals, the largest finite f32 and bf16, f16's overflow threshold, infinities. */
const EDGE_VALUES = [
  1.1754943508222875e-38, -1.1709025059494647e-38, 2.4e-38, -3e-38, 5.9e-39, 1e-30,
  6e-8, -6.1e-5, 65504, 65519, -65520, 1e5, 3.3895313892515355e38, -3.4e38,
  Infinity, -Infinity, 0, -0, 0.1, -300,
];

/** Registers the edge-value and every-pair cast tests for the backend named `device`. */
export function edgeValueProperties(device: string): void {
  castPairProperties(device);
  test('full and cast round edge values (smallest normals, largest finite, infinities) into f16 and bf16 as the CPU does', async () => {
    const mismatches: string[] = [];
    /** Each edge value taken into `dtype` by `full` and by `cast`, read back and as cast to f32, as numbers. */
    const round = async (dev: string, dtype: 'f16' | 'bf16'): Promise<number[][]> => {
      const results = T.tidy(() => {
        const full = T.stack(EDGE_VALUES.map((v) => T.full([], v, { dtype, device: dev })));
        const cast = T.cast(T.tensor(EDGE_VALUES, { dtype: 'f32', device: dev }), dtype);
        return [full, cast, T.cast(full, 'f32'), T.cast(cast, 'f32')];
      });
      try {
        return await Promise.all(results.map(async (t) => Array.from((await t.data()) as ArrayLike<number>)));
      } finally {
        for (const t of results) t.dispose();
      }
    };
    for (const dtype of ['f16', 'bf16'] as const) {
      const cpu = await round('cpu', dtype);
      const other = await round(device, dtype);
      ['full', 'cast', 'f32 view of full', 'f32 view of cast'].forEach((op, k) =>
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

/**
 * Cast inputs: NaN, infinities, FLT_MAX, halves' and integers' edges, values that truncate, wrap
 * (u8 modulo 256, i32/u32 modulo 2^32) or round to Infinity. No f32 subnormals (GPUs flush them;
 * the test above covers that).
 */
const CAST_VALUES = [
  NaN, Infinity, -Infinity, 3.4028234663852886e38, -3.4028234663852886e38, 1.1754943508222875e-38, 0, -0,
  0.1, 2.7, -2.7, 0.5, -1, -2, 5, 255.9, 256, -300, 65504, 65520, -65520, 1e5, 16777216,
  2147483648, -2147483648, 3e9, -3e9, 5e9, -5e9, 1e10, 1e30, -1e30,
];

/** A value as `dtype` holds it on gpujs (f64 is kept at f32 precision there). */
function heldAs(dtype: DType, v: number): number {
  if (dtype === 'f16') return T.f16ToF32(T.f32ToF16(v));
  if (dtype === 'bf16') return T.bf16ToF32(T.f32ToBf16(v));
  if (dtype === 'bool') return v !== 0 ? 1 : 0;
  return Math.fround(v);
}

/** The integer a u32 cast of `v` keeps negative on gpujs (truncated into [-2^31, 0)), else null. */
function heldNegative(v: number): number | null {
  const t = Math.trunc(v);
  return t < 0 && t >= -(2 ** 31) ? t : null;
}

/** The every-pair cast test for the backend named `device` (registered by edgeValueProperties). */
function castPairProperties(device: string): void {
  test('cast between every pair of dtypes equals the CPU backend, read back and as cast to f32 (NaN, Infinity, FLT_MAX, wrapping)', async () => {
    const mismatches: string[] = [];
    /** For each target dtype: the source read back, the result read back, the result cast to f32. */
    const castAll = async (dev: string, from: DType): Promise<number[][][]> => {
      const results = T.tidy(() => {
        const x = T.cast(T.tensor(CAST_VALUES, { dtype: 'f32', device: dev }), from);
        return T.DTYPES.map((to) => {
          const y = T.cast(x, to);
          return [x, y, T.cast(y, 'f32')];
        });
      });
      try {
        return await Promise.all(results.map((ts) => Promise.all(ts.map(async (t) => Array.from((await t.data()) as ArrayLike<number>)))));
      } finally {
        for (const t of new Set(results.flat())) t.dispose();
      }
    };
    const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));
    for (const from of T.DTYPES) {
      const [cpu, other] = [await castAll('cpu', from), await castAll(device, from)];
      T.DTYPES.forEach((to, j) =>
        CAST_VALUES.forEach((v, i) => {
          const [[cx, cy, cz], [, gy, gz]] = [cpu[j]!.map((r) => r[i]!), other[j]!.map((r) => r[i]!)];
          // gpujs holds a u32 made from a negative integer t >= -2^31 as t itself (2^32 + t mostly has
          // no f32 value; t reads back into a Uint32Array as 2^32 + t exactly), so where such a u32 is
          // the source, or the result viewed as f32, the float answer is t's.
          const sourceTwin = from === 'u32' ? heldNegative(Math.fround(v)) : null;
          const resultTwin = to === 'u32' ? heldNegative(sourceTwin ?? cx!) : null;
          // (Integer and bool targets of the twin give the CPU's answer: the same value modulo 2^32.)
          const floatTwin = sourceTwin !== null && T.isFloat(to) ? heldAs(to, sourceTwin) : null;
          const wantY = floatTwin ?? cy!;
          const wantZ = resultTwin ?? floatTwin ?? cz!;
          const tag = `${v} as ${from} cast to ${to}`;
          if (!same(wantY, gy!)) mismatches.push(`${tag}: ${device} ${gy}, expected ${wantY} (cpu ${cy})`);
          if (!same(wantZ, gz!)) mismatches.push(`${tag}, then to f32: ${device} ${gz}, expected ${wantZ} (cpu ${cz})`);
        }),
      );
    }
    expect(mismatches).toEqual([]);
  });
}
