// The WebAssembly SIMD reduction module: f32 sums over the leading axes of a row-major matrix (a
// bias or norm-weight gradient, (B·T, C) summed to (C)) into f64 accumulators, and sums of
// contiguous rows (a last-axis reduction). Each accumulator
// adds its rows in order, as the TypeScript fold does, so results are bit-identical to it; the SIMD
// part is that two columns share one f64x2 add and each accumulator pair is loaded and stored once
// per four rows. Assembled by wasm/build.ts into src/wasm/reduce-bytes.ts.

/** One pass over `k` rows: acc[j] += row_0[j] + ... + row_{k-1}[j] (left to right), then $src moves on k rows. */
function rowsPass(k: number): string {
  const addRow = (scalar: boolean) =>
    scalar
      ? '(local.set $x (f64.add (local.get $x) (f64.promote_f32 (f32.load (local.get $p)))))'
      : '(local.set $a (f64x2.add (local.get $a) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p)))))';
  const rows = (scalar: boolean) =>
    Array.from({ length: k }, (_, r) => (r === 0 ? '' : '(local.set $p (i32.add (local.get $p) (local.get $stride)))\n          ') + addRow(scalar)).join('\n          ');
  return `
        (local.set $j (i32.const 0))
        (block $pairs_done${k}
          (loop $pairs${k}
            (br_if $pairs_done${k} (i32.ge_u (local.get $j) (local.get $n2)))
            (local.set $p (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $q (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
            (local.set $a (v128.load (local.get $q)))
          ${rows(false)}
            (v128.store (local.get $q) (local.get $a))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $pairs${k})))
        (if (i32.ne (local.get $n2) (local.get $n))
          (then
            (local.set $p (i32.add (local.get $src) (i32.shl (local.get $n2) (i32.const 2))))
            (local.set $q (i32.add (local.get $acc) (i32.shl (local.get $n2) (i32.const 3))))
            (local.set $x (f64.load (local.get $q)))
          ${rows(true)}
            (f64.store (local.get $q) (local.get $x))))
        (local.set $src (i32.add (local.get $src) (i32.mul (local.get $stride) (i32.const ${k}))))
        (local.set $r (i32.add (local.get $r) (i32.const ${k})))`;
}

/**
 * The module's text: `sum_rows(src, strideBytes, rows, acc, n)` adds `rows` f32 rows of `n` into n
 * f64 accumulators; `sum_runs(src, n, count, dst)` writes the f64 sum of each of `count` consecutive
 * f32 runs of `n` to dst, in the TypeScript row fold's order: four partial sums (elements 4k, 4k+1,
 * 4k+2, 4k+3 here in the lanes of two f64x2), the tail added to the first, then (a0 + a1) + (a2 + a3).
 */
export function reduceWat(): string {
  return `(module
  (import "env" "memory" (memory 1))
  (func (export "sum_rows") (param $src i32) (param $stride i32) (param $rows i32) (param $acc i32) (param $n i32)
    (local $r i32) (local $j i32) (local $p i32) (local $q i32) (local $n2 i32) (local $a v128) (local $x f64)
    (local.set $n2 (i32.and (local.get $n) (i32.const -2)))
    (block $quads_done
      (loop $quads
        (br_if $quads_done (i32.gt_s (i32.add (local.get $r) (i32.const 4)) (local.get $rows)))${rowsPass(4)}
        (br $quads)))
    (block $singles_done
      (loop $singles
        (br_if $singles_done (i32.ge_s (local.get $r) (local.get $rows)))${rowsPass(1)}
        (br $singles))))
  (func (export "sum_runs") (param $src i32) (param $n i32) (param $count i32) (param $dst i32)
    (local $k i32) (local $p i32) (local $end4 i32) (local $end i32) (local $lo v128) (local $hi v128) (local $a0 f64)
    (block $runs_done
      (loop $runs
        (br_if $runs_done (i32.ge_u (local.get $k) (local.get $count)))
        (local.set $p (i32.add (local.get $src) (i32.shl (i32.mul (local.get $k) (local.get $n)) (i32.const 2))))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $end4 (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
        (local.set $lo (f64x2.splat (f64.const 0)))
        (local.set $hi (f64x2.splat (f64.const 0)))
        (block $quads_done
          (loop $quads
            (br_if $quads_done (i32.ge_u (local.get $p) (local.get $end4)))
            (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p)))))
            (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $quads)))
        (local.set $a0 (f64x2.extract_lane 0 (local.get $lo)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $a0 (f64.add (local.get $a0) (f64.promote_f32 (f32.load (local.get $p)))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $tail)))
        (f64.store
          (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 3)))
          (f64.add
            (f64.add (local.get $a0) (f64x2.extract_lane 1 (local.get $lo)))
            (f64.add (f64x2.extract_lane 0 (local.get $hi)) (f64x2.extract_lane 1 (local.get $hi)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $runs))))
)`;
}
