// The row loops of the attention heads task (src/wasm/attention-task.ts) as WebAssembly SIMD, part of
// the gemm module so each thread calls them on its own instance between a head's products: the
// causal softmax of a score tile, P and dS = P ∘ (dP - delta) of the gradients, and the scaled copy
// of a product's result rows out. As JS loops on one thread they took about as long as the head's
// products (~14 ms of JS against ~12 ms in the gemm for the three ops of one training-step layer).
// e^x is Cephes' expf on four lanes: x = k ln2 + r (ln2 in two parts), a degree-5 polynomial in r,
// times 2^k from the exponent bits; ~1 f32 ulp. Below -87.3 it is 0 (no subnormals), above 88.37 +inf,
// NaN stays NaN.

/** Four-lane f32 constant. */
const f4 = (v: number | string): string => `(v128.const f32x4 ${v} ${v} ${v} ${v})`;

/** Instructions that set local `out` to e^x for the four lanes of local `x` (uses locals $k, $r, $p). */
const exp4 = (x: string, out: string): string => {
  const horner = ['1.3981999507e-3', '8.3334519073e-3', '4.1665795894e-2', '1.6666665459e-1', '5.0000001201e-1'];
  let p = f4('1.9875691500e-4');
  for (const c of horner) p = `(f32x4.add (f32x4.mul ${p} (local.get $r)) ${f4(c)})`;
  return `(local.set $k (f32x4.nearest (f32x4.mul (local.get ${x}) ${f4('1.44269504088896341')})))
      (local.set $r (f32x4.sub (f32x4.sub (local.get ${x}) (f32x4.mul (local.get $k) ${f4('0.693359375')})) (f32x4.mul (local.get $k) ${f4('-2.12194440e-4')})))
      (local.set $p ${p})
      (local.set ${out} (f32x4.mul
        (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $r)) (local.get $r)) (local.get $r)) ${f4(1)})
        (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $k)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))
      (local.set ${out} (v128.bitselect ${f4(0)} (local.get ${out}) (f32x4.lt (local.get ${x}) ${f4('-87.3365478515625')})))
      (local.set ${out} (v128.bitselect ${f4('inf')} (local.get ${out}) (f32x4.gt (local.get ${x}) ${f4('88.3762626647949')})))`;
};

/** Sets $vis: the keys row $i sees, all $s or (when $causal) j <= i + skew, clamped to [0, $s]. */
const visible = `(local.set $vis (local.get $s))
    (if (local.get $causal) (then
      (local.set $vis (i32.add (i32.add (local.get $i) (local.get $skew)) (i32.const 1)))
      (if (i32.lt_s (local.get $vis) (i32.const 0)) (then (local.set $vis (i32.const 0))))
      (if (i32.gt_s (local.get $vis) (local.get $s)) (then (local.set $vis (local.get $s))))))`;

/** A loop over $j from its current value up to `end` (exclusive) in steps of `step`. */
const loopTo = (label: string, end: string, step: number, body: string): string => `(block $${label}_done (loop $${label}
      (br_if $${label}_done (i32.ge_s (local.get $j) ${end}))
      ${body}
      (local.set $j (i32.add (local.get $j) (i32.const ${step})))
      (br $${label})))`;

/** Byte address of float $j of the row at local `row`. */
const at = (row: string): string => `(i32.add (local.get ${row}) (i32.shl (local.get $j) (i32.const 2)))`;

/** Zeroes floats $j .. $s of the row at local `row`. */
const zeroTail = (row: string, label: string): string => loopTo(label, '(local.get $s)', 1, `(f32.store ${at(row)} (f32.const 0))`);

const EXP_LOCALS = '(local $x v128) (local $k v128) (local $r v128) (local $p v128) (local $e v128)';

/** The three functions' WebAssembly text (inside the gemm module, which imports the memory). */
export function attentionRowsWat(): string {
  return `
  ;; Rows 0..$rows of a score tile at $c ($ld floats apart), $s keys each: the first $vis scaled by
  ;; $scale and replaced by e^(x - max) (the unnormalised softmax), the rest zeroed; the row's max and
  ;; sum go to $stats + 8i as two f32 (the max is NaN when a score is; -inf when no key is visible).
  (func (export "attnSoftmax") (param $c i32) (param $ld i32) (param $rows i32) (param $s i32) (param $skew i32) (param $causal i32) (param $scale f32) (param $stats i32)
    (local $i i32) (local $row i32) (local $vis i32) (local $j i32) (local $end i32) (local $m f32) (local $sum f32) (local $sc v128) (local $vm v128) (local $vs v128) ${EXP_LOCALS}
    (local.set $sc (f32x4.splat (local.get $scale)))
    (if (i32.le_s (local.get $rows) (i32.const 0)) (then (return)))
    (loop $rowLoop
    (local.set $row (i32.add (local.get $c) (i32.shl (i32.mul (local.get $i) (local.get $ld)) (i32.const 2))))
    ${visible}
    (local.set $end (i32.and (local.get $vis) (i32.const -4)))
    (local.set $vm ${f4('-inf')})
    (local.set $j (i32.const 0))
    ${loopTo('scaleV', '(local.get $end)', 4, `(local.set $x (f32x4.mul (v128.load ${at('$row')}) (local.get $sc)))
      (v128.store ${at('$row')} (local.get $x))
      (local.set $vm (f32x4.max (local.get $vm) (local.get $x)))`)}
    (local.set $m (f32.max (f32.max (f32x4.extract_lane 0 (local.get $vm)) (f32x4.extract_lane 1 (local.get $vm)))
      (f32.max (f32x4.extract_lane 2 (local.get $vm)) (f32x4.extract_lane 3 (local.get $vm)))))
    ${loopTo('scaleS', '(local.get $vis)', 1, `(f32.store ${at('$row')} (f32.mul (f32.load ${at('$row')}) (local.get $scale)))
      (local.set $m (f32.max (local.get $m) (f32.load ${at('$row')})))`)}
    (local.set $vm (f32x4.splat (local.get $m)))
    (local.set $vs ${f4(0)})
    (local.set $j (i32.const 0))
    ${loopTo('expV', '(local.get $end)', 4, `(local.set $x (f32x4.sub (v128.load ${at('$row')}) (local.get $vm)))
      ${exp4('$x', '$e')}
      (v128.store ${at('$row')} (local.get $e))
      (local.set $vs (f32x4.add (local.get $vs) (local.get $e)))`)}
    (local.set $sum (f32.add (f32.add (f32x4.extract_lane 0 (local.get $vs)) (f32x4.extract_lane 1 (local.get $vs)))
      (f32.add (f32x4.extract_lane 2 (local.get $vs)) (f32x4.extract_lane 3 (local.get $vs)))))
    ${loopTo('expS', '(local.get $vis)', 1, `(local.set $x (f32x4.splat (f32.sub (f32.load ${at('$row')}) (local.get $m))))
      ${exp4('$x', '$e')}
      (f32.store ${at('$row')} (f32x4.extract_lane 0 (local.get $e)))
      (local.set $sum (f32.add (local.get $sum) (f32x4.extract_lane 0 (local.get $e))))`)}
    ${zeroTail('$row', 'zero')}
    (f32.store (i32.add (local.get $stats) (i32.shl (local.get $i) (i32.const 3))) (local.get $m))
    (f32.store offset=4 (i32.add (local.get $stats) (i32.shl (local.get $i) (i32.const 3))) (local.get $sum))
    (br_if $rowLoop (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $rows)))))
  ;; P and dS of rows 0..$rows in place: scores at $c1, dO Vᵀ at $c2 ($ld floats apart); over the
  ;; first $vis keys P = e^(scale·s - l) and dS = P (dP - dl) with l, dl the f32 at $lse + 4i and
  ;; $delta + 4i, the rest zeroed. Rows whose l is not above -inf (NaN included) are left as they are.
  (func (export "attnGrad") (param $c1 i32) (param $c2 i32) (param $ld i32) (param $rows i32) (param $s i32) (param $skew i32) (param $causal i32) (param $scale f32) (param $lse i32) (param $delta i32)
    (local $i i32) (local $row i32) (local $drow i32) (local $vis i32) (local $j i32) (local $end i32) (local $l f32) (local $sc v128) (local $lv v128) (local $dlv v128) ${EXP_LOCALS}
    (local.set $sc (f32x4.splat (local.get $scale)))
    (if (i32.le_s (local.get $rows) (i32.const 0)) (then (return)))
    (loop $rowLoop
    (local.set $l (f32.load (i32.add (local.get $lse) (i32.shl (local.get $i) (i32.const 2)))))
    (if (f32.gt (local.get $l) (f32.const -inf)) (then
    (local.set $row (i32.add (local.get $c1) (i32.shl (i32.mul (local.get $i) (local.get $ld)) (i32.const 2))))
    (local.set $drow (i32.add (local.get $c2) (i32.shl (i32.mul (local.get $i) (local.get $ld)) (i32.const 2))))
    (local.set $lv (f32x4.splat (local.get $l)))
    (local.set $dlv (f32x4.splat (f32.load (i32.add (local.get $delta) (i32.shl (local.get $i) (i32.const 2))))))
    ${visible}
    (local.set $end (i32.and (local.get $vis) (i32.const -4)))
    (local.set $j (i32.const 0))
    ${loopTo('gradV', '(local.get $end)', 4, `(local.set $x (f32x4.sub (f32x4.mul (v128.load ${at('$row')}) (local.get $sc)) (local.get $lv)))
      ${exp4('$x', '$e')}
      (v128.store ${at('$row')} (local.get $e))
      (v128.store ${at('$drow')} (f32x4.mul (local.get $e) (f32x4.sub (v128.load ${at('$drow')}) (local.get $dlv))))`)}
    ${loopTo('gradS', '(local.get $vis)', 1, `(local.set $x (f32x4.sub (f32x4.mul (f32x4.splat (f32.load ${at('$row')})) (local.get $sc)) (local.get $lv)))
      ${exp4('$x', '$e')}
      (f32.store ${at('$row')} (f32x4.extract_lane 0 (local.get $e)))
      (f32.store ${at('$drow')} (f32.mul (f32x4.extract_lane 0 (local.get $e)) (f32.sub (f32.load ${at('$drow')}) (f32x4.extract_lane 0 (local.get $dlv)))))`)}
    (local.set $end (local.get $j))
    ${zeroTail('$row', 'zeroP')}
    (local.set $j (local.get $end))
    ${zeroTail('$drow', 'zeroD')}))
    (br_if $rowLoop (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $rows)))))
  ;; dst row i ($ldd floats apart) = src row i ($lds apart) · f_i over $cols floats, plus dst's own
  ;; values when $add; f_i is the f32 at $scales + 4·i·$sstep ($sstep 0: one factor for every row).
  (func (export "attnScaleRows") (param $dst i32) (param $ldd i32) (param $src i32) (param $lds i32) (param $rows i32) (param $cols i32) (param $scales i32) (param $sstep i32) (param $add i32)
    (local $i i32) (local $d i32) (local $s i32) (local $j i32) (local $end i32) (local $f f32) (local $fv v128)
    (if (i32.le_s (local.get $rows) (i32.const 0)) (then (return)))
    (local.set $end (i32.and (local.get $cols) (i32.const -4)))
    (loop $rowLoop
    (local.set $d (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $i) (local.get $ldd)) (i32.const 2))))
    (local.set $s (i32.add (local.get $src) (i32.shl (i32.mul (local.get $i) (local.get $lds)) (i32.const 2))))
    (local.set $f (f32.load (i32.add (local.get $scales) (i32.shl (i32.mul (local.get $i) (local.get $sstep)) (i32.const 2)))))
    (local.set $fv (f32x4.splat (local.get $f)))
    (local.set $j (i32.const 0))
    (if (local.get $add)
      (then
        ${loopTo('addV', '(local.get $end)', 4, `(v128.store ${at('$d')} (f32x4.add (v128.load ${at('$d')}) (f32x4.mul (v128.load ${at('$s')}) (local.get $fv))))`)}
        ${loopTo('addS', '(local.get $cols)', 1, `(f32.store ${at('$d')} (f32.add (f32.load ${at('$d')}) (f32.mul (f32.load ${at('$s')}) (local.get $f))))`)})
      (else
        ${loopTo('setV', '(local.get $end)', 4, `(v128.store ${at('$d')} (f32x4.mul (v128.load ${at('$s')}) (local.get $fv)))`)}
        ${loopTo('setS', '(local.get $cols)', 1, `(f32.store ${at('$d')} (f32.mul (f32.load ${at('$s')}) (local.get $f)))`)}))
    (br_if $rowLoop (i32.lt_s (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $rows)))))
`;
}
