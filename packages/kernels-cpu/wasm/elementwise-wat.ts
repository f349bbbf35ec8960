// The source of the WebAssembly SIMD elementwise module: f32 add, sub, mul and div over runs of
// floats in the module's own memory, four lanes per step. `wasm/build.ts` assembles it with wabt into
// `src/wasm/elementwise-bytes.ts`. Each function processes ceil(n / 4) vectors: callers size their
// buffers in whole vectors, and the up to three extra lanes compute on padding nobody reads.
//
// Per op: `<op>_vv(a, b, d, n)`: d[i] = a[i] op b[i]; `<op>_vs(a, s, d, n)`: d[i] = a[i] op s;
// `<op>_sv(s, b, d, n)`: d[i] = s op b[i] (pointers are byte offsets, 16-byte aligned).
// Unary `<op>_v(a, d, n)`: d[i] = op(a[i]) for exp, tanh and sigmoid, in f32 from Cephes' expf and
// tanhf polynomials (a few ulp from the correctly rounded value, where the TypeScript kernels compute
// in double and round once: the JavaScript loops pay a Math.exp/Math.tanh call per element).

/** The ops the module exports, by their WebAssembly instruction. */
export const ELEMENTWISE_OPS = { add: 'f32x4.add', sub: 'f32x4.sub', mul: 'f32x4.mul', div: 'f32x4.div' } as const;

function loop(body: string, pointers: readonly string[]): string {
  const step = pointers.map((p) => `(local.set ${p} (i32.add (local.get ${p}) (i32.const 16)))`).join(' ');
  return `(local.set $end (i32.add (local.get $d) (i32.shl (i32.shr_u (i32.add (local.get $n) (i32.const 3)) (i32.const 2)) (i32.const 4))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $d) (local.get $end)))
      (v128.store (local.get $d) ${body})
      ${step}
      (br $next)))`;
}

// Vector constants of the unary functions live in locals set once per call: V8 rebuilds a v128.const
// from immediates at every use, which in these polynomials cost more than the arithmetic.
const constants = new Map<string, string>();
/** A local holding `v128.const <shape> x x x x`, declared and set by the function prologue. */
function vconst(shape: 'f32x4' | 'i32x4', x: number | string): string {
  const value = `(v128.const ${shape} ${x} ${x} ${x} ${x})`;
  if (!constants.has(value)) constants.set(value, `$k${constants.size}`);
  return `(local.get ${constants.get(value)})`;
}
const splat = (x: number | string): string => vconst('f32x4', x);
const splatI = (x: number | string): string => vconst('i32x4', x);

// exp: x clamped to [-104, 89] (past those e^x rounds to 0 or overflows to Inf in f32; pmin/pmax are
// single instructions and keep a NaN), n = round(x·log2 e), r = x - n·ln 2 in two parts (Cephes' C1
// + C2), e^r by Cephes' degree-6 polynomial, times 2^n as two powers of two so results down to
// subnormals and up to overflow come out right. Written out inline in each function (V8 does not
// inline WebAssembly calls; a call per vector with spilled v128s cost more than the polynomial).
const EXP_POLY = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
/** Statements that set local $e to e^`x` for four lanes (locals $e, $en, $er, $ei, $eh). */
function expInto(x: string): string {
  let p = splat(EXP_POLY[0]!);
  for (const c of EXP_POLY.slice(1)) p = `(f32x4.add (f32x4.mul ${p} (local.get $er)) ${splat(c)})`;
  return `(local.set $e (f32x4.pmin (f32x4.pmax ${x} ${splat(-104)}) ${splat(89)}))
      (local.set $en (f32x4.nearest (f32x4.mul (local.get $e) ${splat(1.4426950408889634)})))
      (local.set $er (f32x4.sub (f32x4.sub (local.get $e) (f32x4.mul (local.get $en) ${splat(0.693359375)})) (f32x4.mul (local.get $en) ${splat(-2.12194440e-4)})))
      (local.set $ei (i32x4.trunc_sat_f32x4_s (local.get $en)))
      (local.set $eh (i32x4.shr_s (local.get $ei) (i32.const 1)))
      (local.set $e (f32x4.mul
        (f32x4.mul
          (f32x4.add (f32x4.add (f32x4.mul ${p} (f32x4.mul (local.get $er) (local.get $er))) (local.get $er)) ${splat(1)})
          (i32x4.shl (i32x4.add (local.get $eh) ${splatI(127)}) (i32.const 23)))
        (i32x4.shl (i32x4.add (i32x4.sub (local.get $ei) (local.get $eh)) ${splatI(127)}) (i32.const 23))))`;
}

// tanh: |x| < 0.625 by Cephes' odd polynomial (no cancellation near 0), else 1 - 2/(e^2|x| + 1); x's
// sign last (so tanh(-0) is -0).
const TANH_POLY = [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1];
function tanhOf(): { readonly body: string; readonly result: string } {
  let t = splat(TANH_POLY[0]!);
  for (const c of TANH_POLY.slice(1)) t = `(f32x4.add (f32x4.mul ${t} (local.get $z)) ${splat(c)})`;
  return {
    body: `(local.set $ax (f32x4.abs (local.get $x)))
      (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
      ${expInto('(f32x4.add (local.get $ax) (local.get $ax))')}`,
    result: `(v128.or
        (v128.bitselect
          (f32x4.add (local.get $ax) (f32x4.mul (f32x4.mul (local.get $ax) (local.get $z)) ${t}))
          (f32x4.sub ${splat(1)} (f32x4.div ${splat(2)} (f32x4.add (local.get $e) ${splat(1)})))
          (f32x4.lt (local.get $ax) ${splat(0.625)}))
        (v128.and (local.get $x) ${splatI('0x80000000')}))`,
  };
}

/** The unary ops the module exports (`<op>_v`): statements over the lanes $x, and the result expression. */
const UNARY_BODIES: Record<'exp' | 'tanh' | 'sigmoid', { readonly body: string; readonly result: string }> = {
  exp: { body: expInto('(local.get $x)'), result: '(local.get $e)' },
  tanh: tanhOf(),
  // sigmoid from e = e^-|x|: 1 / (1 + e) for x >= 0, e / (1 + e) below (no overflow on either side).
  sigmoid: {
    body: `${expInto('(f32x4.neg (f32x4.abs (local.get $x)))')}
      (local.set $q (f32x4.div ${splat(1)} (f32x4.add ${splat(1)} (local.get $e))))`,
    result: `(v128.bitselect (f32x4.mul (local.get $e) (local.get $q)) (local.get $q) (f32x4.lt (local.get $x) ${splat(0)}))`,
  },
};

// AdamW in place over runs of p, g, m, v: the same f32 operations in the same order as the
// TypeScript update (src/adamw-update.ts), each IEEE-rounded, so the results are bit-identical.
const ADAMW = `
  (func (export "adamw") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1 f32) (param $omb1 f32) (param $b2 f32) (param $omb2 f32) (param $decay f32) (param $sqrtBc2 f32) (param $eps f32) (param $step f32)
    (local $end i32) (local $gi v128) (local $mi v128) (local $vi v128)
    (local $B1 v128) (local $OMB1 v128) (local $B2 v128) (local $OMB2 v128) (local $DECAY v128) (local $SQRTBC2 v128) (local $EPS v128) (local $STEP v128)
    (local.set $B1 (f32x4.splat (local.get $b1))) (local.set $OMB1 (f32x4.splat (local.get $omb1)))
    (local.set $B2 (f32x4.splat (local.get $b2))) (local.set $OMB2 (f32x4.splat (local.get $omb2)))
    (local.set $DECAY (f32x4.splat (local.get $decay))) (local.set $SQRTBC2 (f32x4.splat (local.get $sqrtBc2)))
    (local.set $EPS (f32x4.splat (local.get $eps))) (local.set $STEP (f32x4.splat (local.get $step)))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.shr_u (i32.add (local.get $n) (i32.const 3)) (i32.const 2)) (i32.const 4))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $gi (v128.load (local.get $g)))
      (local.set $mi (f32x4.add (f32x4.mul (v128.load (local.get $m)) (local.get $B1)) (f32x4.mul (local.get $gi) (local.get $OMB1))))
      (local.set $vi (f32x4.add (f32x4.mul (v128.load (local.get $v)) (local.get $B2)) (f32x4.mul (f32x4.mul (local.get $gi) (local.get $gi)) (local.get $OMB2))))
      (v128.store (local.get $p)
        (f32x4.sub
          (f32x4.mul (v128.load (local.get $p)) (local.get $DECAY))
          (f32x4.mul
            (f32x4.div (local.get $mi) (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vi)) (local.get $SQRTBC2)) (local.get $EPS)))
            (local.get $STEP))))
      (v128.store (local.get $m) (local.get $mi))
      (v128.store (local.get $v) (local.get $vi))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (local.set $m (i32.add (local.get $m) (i32.const 16)))
      (local.set $v (i32.add (local.get $v) (i32.const 16)))
      (br $next))))`;

// Σ exp(a[i] - m) over n floats (the caller pads the last vector with -Inf), exp as in the unary
// functions, the sum in f64 (two f64x2 accumulators) as the TypeScript lane sum keeps it.
const SUM_EXP = `
  (func (export "sumexp") (param $a i32) (param $n i32) (param $m f32) (result f64)
    (local $end i32) (local $M v128) (local $s0 v128) (local $s1 v128)
    (local $x v128) (local $e v128) (local $en v128) (local $er v128) (local $ei v128) (local $eh v128)
    ${[...constants.values()].map((k) => `(local ${k} v128)`).join(' ')}
    ${[...constants].map(([value, k]) => `(local.set ${k} ${value})`).join('\n    ')}
    (local.set $M (f32x4.splat (local.get $m)))
    (local.set $end (i32.add (local.get $a) (i32.shl (i32.shr_u (i32.add (local.get $n) (i32.const 3)) (i32.const 2)) (i32.const 4))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      ${expInto('(f32x4.sub (v128.load (local.get $a)) (local.get $M))')}
      (local.set $s0 (f64x2.add (local.get $s0) (f64x2.promote_low_f32x4 (local.get $e))))
      (local.set $s1 (f64x2.add (local.get $s1) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $e) (local.get $e)))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (br $next)))
    (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
    (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))`;

/** The WebAssembly text of the elementwise module (memory imported as env.memory). */
export function elementwiseWat(): string {
  const funcs = Object.entries(ELEMENTWISE_OPS).map(([name, instr]) => `
  (func (export "${name}_vv") (param $a i32) (param $b i32) (param $d i32) (param $n i32) (local $end i32)
    ${loop(`(${instr} (v128.load (local.get $a)) (v128.load (local.get $b)))`, ['$a', '$b', '$d'])})
  (func (export "${name}_vs") (param $a i32) (param $s f32) (param $d i32) (param $n i32) (local $end i32) (local $v v128)
    (local.set $v (f32x4.splat (local.get $s)))
    ${loop(`(${instr} (v128.load (local.get $a)) (local.get $v))`, ['$a', '$d'])})
  (func (export "${name}_sv") (param $s f32) (param $b i32) (param $d i32) (param $n i32) (local $end i32) (local $v v128)
    (local.set $v (f32x4.splat (local.get $s)))
    ${loop(`(${instr} (local.get $v) (v128.load (local.get $b)))`, ['$b', '$d'])})`);
  const unary = Object.entries(UNARY_BODIES).map(([name, { body, result }]) => `
  (func (export "${name}_v") (param $a i32) (param $d i32) (param $n i32) (local $end i32)
    (local $x v128) (local $e v128) (local $en v128) (local $er v128) (local $ei v128) (local $eh v128) (local $z v128) (local $ax v128) (local $q v128)
    ${[...constants.values()].map((k) => `(local ${k} v128)`).join(' ')}
    ${[...constants].map(([value, k]) => `(local.set ${k} ${value})`).join('\n    ')}
    (local.set $end (i32.add (local.get $d) (i32.shl (i32.shr_u (i32.add (local.get $n) (i32.const 3)) (i32.const 2)) (i32.const 4))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $d) (local.get $end)))
      (local.set $x (v128.load (local.get $a)))
      ${body}
      (v128.store (local.get $d) ${result})
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $d (i32.add (local.get $d) (i32.const 16)))
      (br $next))))`);
  return `(module
  (import "env" "memory" (memory 1))${funcs.join('')}${unary.join('')}${ADAMW}${SUM_EXP}
)`;
}
