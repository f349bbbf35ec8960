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

import { ARENA_BASE, SCRATCH_END } from '../src/wasm/f32-arena.js';

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

// Vector constants of the polynomials live in locals loaded once per call from a table in the
// module's memory (a data segment at CONST_BYTES): V8's optimizing compiler rebuilds a v128.const
// from immediates at every use (three instructions: movq, vmovq, vpunpcklqdq), even when the
// constant was first stored in a local, which in sumexp's loop was 36 of ~75 instructions. A value
// loaded from memory it cannot fold, so it stays in a register (or one memory operand away).
/** Byte offset of the constant table in the private build: after the six 16400-float scratch regions of wasm-elementwise.ts. */
export const CONST_BYTES = 6 * 16400 * 4;
/**
 * Byte offset of the constant table in the shared build (the agent's shared memory, f32-arena.ts):
 * the slot reserved just below the arena, past every engine's scratch (SCRATCH_END).
 */
export const SHARED_CONST_BYTES = SCRATCH_END;
/** The shared build's memory minimum, in pages: up to the arena's base, so the constant slot is inside it. */
export const SHARED_MIN_PAGES = ARENA_BASE / 65536;
/** Where the build being generated puts its constant table. */
let constBytes = CONST_BYTES;
/** The memory the module needs, in 64 KiB pages (the scratch regions and the constant table). */
export const ELEMENTWISE_PAGES = Math.ceil((7 * 16400 * 4) / 65536);
const constants = new Map<string, { local: string; shape: 'f32x4' | 'i32x4'; x: number }>();
/** A local holding `shape`.splat(x), declared and loaded by the function prologue. */
function vconst(shape: 'f32x4' | 'i32x4', x: number | string): string {
  const key = `${shape} ${x}`;
  if (!constants.has(key)) constants.set(key, { local: `$k${constants.size}`, shape, x: Number(x) });
  return `(local.get ${constants.get(key)!.local})`;
}
/** The data segment of the constant table, 16 bytes a constant in the order of their locals. */
function constantTable(): string {
  const bytes = new Uint8Array(16 * constants.size);
  const view = new DataView(bytes.buffer);
  [...constants.values()].forEach(({ shape, x }, i) => {
    for (let lane = 0; lane < 4; lane++) {
      if (shape === 'f32x4') view.setFloat32(16 * i + 4 * lane, x, true);
      else view.setUint32(16 * i + 4 * lane, x >>> 0, true);
    }
  });
  return `(data (i32.const ${constBytes}) "${[...bytes].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('')}")`;
}
const splat = (x: number | string): string => vconst('f32x4', x);
const splatI = (x: number | string): string => vconst('i32x4', x);

// exp: x clamped to [-104, 89] (past those e^x rounds to 0 or overflows to Inf in f32; pmin/pmax are
// single instructions and keep a NaN), n = round(x·log2 e), r = x - n·ln 2 in two parts (Cephes' C1
// + C2), e^r by Cephes' degree-6 polynomial, times 2^n as two powers of two so results down to
// subnormals and up to overflow come out right. Written out inline in each function (V8 does not
// inline WebAssembly calls; a call per vector with spilled v128s cost more than the polynomial).
// The build: 'fma' fuses the multiply-adds of expFastInto and GELU into relaxed SIMD's
// f32x4.relaxed_madd (one vfmadd on x86 with FMA, where V8 fuses it; see gemm-module.ts for how the
// build is chosen), 'simd128' multiplies and adds. exp_v/tanh_v/sigmoid_v, AdamW and the rest are
// the same in both (AdamW must stay bit-identical to its composition).
let fused = false;
/** a * b + c: one relaxed_madd in the 'fma' build, f32x4.mul then f32x4.add otherwise. */
const madd = (a: string, b: string, c: string): string => (fused ? `(f32x4.relaxed_madd ${a} ${b} ${c})` : `(f32x4.add (f32x4.mul ${a} ${b}) ${c})`);

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

// The same e^x for kernels whose results need neither subnormals nor exact overflow thresholds
// (GELU, the softmax sums and the cross-entropy gradient): x capped at 88.8, n = round(x
// log2 e) by adding and subtracting 1.5 * 2^23 (whose float then holds n in its low bits, so 2^(n-1)
// is one shift and one add: no f32x4.nearest, no i32x4.trunc_sat, which V8 expands into long
// sequences on x86), the polynomial doubled times 2^(n-1) (normal for n >= -125; for n = 128 it
// overflows to Inf exactly where e^x does), and 0 below -86.6 (e^x < 2.5e-38 is flushed to 0 rather
// than rounded to a subnormal; NaN passes).
/**
 * Statements that set local $e to e^`x` for four lanes (locals $e, $en, $er, $ei). Only the upper
 * clamp is needed (`x` may be +Inf: GELU's argument; not where `x` <= 0, a softmax's x - max): below
 * -86.6 the result is masked to 0 whatever garbage the scaling made of it.
 */
function expFastInto(x: string, upper = true): string {
  let p = splat(EXP_POLY[0]!);
  for (const c of EXP_POLY.slice(1)) p = madd(p, '(local.get $er)', splat(c));
  return `(local.set $ei ${x})
      (local.set $e ${upper ? `(f32x4.pmin (local.get $ei) ${splat(88.8)})` : '(local.get $ei)'})
      (local.set $en ${madd('(local.get $e)', splat(1.4426950408889634), splat(12582912))})
      (local.set $er (f32x4.sub (local.get $en) ${splat(12582912)}))
      (local.set $er ${madd('(local.get $er)', splat(2.12194440e-4), madd('(local.get $er)', splat(-0.693359375), '(local.get $e)'))})
      (local.set $e (f32x4.add ${madd(p, '(f32x4.mul (local.get $er) (local.get $er))', '(local.get $er)')} ${splat(1)}))
      (local.set $e (v128.andnot
        (f32x4.mul (f32x4.add (local.get $e) (local.get $e)) (i32x4.add (i32x4.shl (local.get $en) (i32.const 23)) ${splatI('0x3f000000')}))
        (f32x4.lt (local.get $ei) ${splat(-86.6)})))`;
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

// GELU, tanh form, in f32: t = -2 sqrt(2/pi) x (1 + 0.044715 x^2), e = e^t, gelu = x / (1 + e) (the
// logistic form of 0.5 x (1 + tanh u), one exp). The gradient is s + 2 x s (1 - s) sqrt(2/pi) (1 + 3
// 0.044715 x^2) with s = 1 / (1 + e): s (1 - s) is taken as e s^2 for x >= 0 (no cancellation where s
// is near 1) and the cubic's x^2 is capped at 1e8 (s (1 - s) is exactly 0 long before, and an
// overflowing x^2 would turn that 0 into 0 * Inf = NaN where the double-precision kernel gives 0).
const GELU_K = -1.5957691216057308;
const GELU_C = 0.044715;
function geluExp(): string {
  return `(local.set $z (f32x4.mul (local.get $x) (local.get $x)))
      ${expFastInto(`(f32x4.mul (f32x4.mul (local.get $x) ${splat(GELU_K)}) ${madd('(local.get $z)', splat(GELU_C), splat(1))})`)}`;
}

/** The unary ops the module exports (`<op>_v`): statements over the lanes $x, and the result expression. */
const unaryBodies = (): Record<'exp' | 'tanh' | 'sigmoid' | 'gelu_tanh', { readonly body: string; readonly result: string }> => ({
  exp: { body: expInto('(local.get $x)'), result: '(local.get $e)' },
  tanh: tanhOf(),
  // sigmoid from e = e^-|x|: 1 / (1 + e) for x >= 0, e / (1 + e) below (no overflow on either side).
  sigmoid: {
    body: `${expInto('(f32x4.neg (f32x4.abs (local.get $x)))')}
      (local.set $q (f32x4.div ${splat(1)} (f32x4.add ${splat(1)} (local.get $e))))`,
    result: `(v128.bitselect (f32x4.mul (local.get $e) (local.get $q)) (local.get $q) (f32x4.lt (local.get $x) ${splat(0)}))`,
  },
  gelu_tanh: { body: geluExp(), result: `(f32x4.div (local.get $x) (f32x4.add ${splat(1)} (local.get $e)))` },
});

// AdamW over runs of p, g, m, v, writing the new p, m, v at dp, dm, dv (the same place for an update
// in place, or new arrays of the shared memory): the same f32 operations in the same order as the
// TypeScript update (src/adamw-update.ts), each IEEE-rounded, so the results are bit-identical.
const ADAMW = `
  (func (export "adamw") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $dp i32) (param $dm i32) (param $dv i32) (param $n i32)
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
      (v128.store (local.get $dp)
        (f32x4.sub
          (f32x4.mul (v128.load (local.get $p)) (local.get $DECAY))
          (f32x4.mul
            (f32x4.div (local.get $mi) (f32x4.add (f32x4.div (f32x4.sqrt (local.get $vi)) (local.get $SQRTBC2)) (local.get $EPS)))
            (local.get $STEP))))
      (v128.store (local.get $dm) (local.get $mi))
      (v128.store (local.get $dv) (local.get $vi))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (local.set $m (i32.add (local.get $m) (i32.const 16)))
      (local.set $v (i32.add (local.get $v) (i32.const 16)))
      (local.set $dp (i32.add (local.get $dp) (i32.const 16)))
      (local.set $dm (i32.add (local.get $dm) (i32.const 16)))
      (local.set $dv (i32.add (local.get $dv) (i32.const 16)))
      (br $next))))`;

/**
 * sumexp(a, n, m): Σ e^(a[i] - m) over n floats (the caller pads the last vector with -Inf; m is
 * their max, so a - m <= 0 and the exp needs no upper clamp), exp by expFastInto, the sum in f64 (two f64x2 accumulators) as the TypeScript lane sum keeps it. With
 * `store`, exp_sum(a, d, n, m) also writes each e^(a - m) to d, so a softmax needs one exp per
 * element (scale_sub then finishes it in place).
 */
function sumExp(store: boolean): string {
  const body = expFastInto('(f32x4.sub (v128.load (local.get $a)) (local.get $M))', false);
  return `
  (func (export "${store ? 'exp_sum' : 'sumexp'}") (param $a i32) ${store ? '(param $d i32) ' : ''}(param $n i32) (param $m f32) (result f64)
    (local $end i32) (local $M v128) (local $s0 v128) (local $s1 v128)
    (local $x v128) (local $e v128) (local $en v128) (local $er v128) (local $ei v128) (local $eh v128)
    ${constantLocals()}
    (local.set $M (f32x4.splat (local.get $m)))
    (local.set $end (i32.add (local.get $a) (i32.shl (i32.shr_u (i32.add (local.get $n) (i32.const 3)) (i32.const 2)) (i32.const 4))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      ${body}
      ${store ? '(v128.store (local.get $d) (local.get $e)) (local.set $d (i32.add (local.get $d) (i32.const 16)))' : ''}
      (local.set $s0 (f64x2.add (local.get $s0) (f64x2.promote_low_f32x4 (local.get $e))))
      (local.set $s1 (f64x2.add (local.get $s1) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $e) (local.get $e)))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (br $next)))
    (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
    (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))`;
}

// scale_sub(d, n, inv, off, scale): d = (d inv - off) scale in place: with d = e^(x - m) and inv the
// reciprocal of its sum, the cross-entropy logits gradient of every class but the target.
const SCALE_SUB = `
  (func (export "scale_sub") (param $d i32) (param $n i32) (param $inv f32) (param $off f32) (param $scale f32)
    (local $end i32) (local $INV v128) (local $OFF v128) (local $SCALE v128)
    (local.set $INV (f32x4.splat (local.get $inv))) (local.set $OFF (f32x4.splat (local.get $off))) (local.set $SCALE (f32x4.splat (local.get $scale)))
    (local.set $end (i32.add (local.get $d) (i32.shl (i32.shr_u (i32.add (local.get $n) (i32.const 3)) (i32.const 2)) (i32.const 4))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $d) (local.get $end)))
      (v128.store (local.get $d) (f32x4.mul (f32x4.sub (f32x4.mul (v128.load (local.get $d)) (local.get $INV)) (local.get $OFF)) (local.get $SCALE)))
      (local.set $d (i32.add (local.get $d) (i32.const 16)))
      (br $next))))`;

/** Declarations and prologue of the vector-constant locals (call after every body using them is built). */
function constantLocals(): string {
  return `${[...constants.values()].map(({ local }) => `(local ${local} v128)`).join(' ')}
    ${[...constants.values()].map(({ local }, i) => `(local.set ${local} (v128.load (i32.const ${constBytes + 16 * i})))`).join('\n    ')}`;
}

// gelu_bwd(a, g, d, n): d = g * gelu'(a), four lanes a step.
function geluBackward(): string {
  const body = `(local.set $x (v128.load (local.get $a)))
      ${geluExp()}
      (local.set $q (f32x4.div ${splat(1)} (f32x4.add ${splat(1)} (local.get $e))))
      (local.set $ax (v128.bitselect
        (f32x4.mul (f32x4.mul (local.get $e) (local.get $q)) (local.get $q))
        (f32x4.mul (local.get $q) (f32x4.sub ${splat(1)} (local.get $q)))
        (f32x4.ge (local.get $x) ${splat(0)})))
      (v128.store (local.get $d) (f32x4.mul (v128.load (local.get $g))
        (f32x4.add (local.get $q)
          (f32x4.mul
            (f32x4.mul (f32x4.mul (f32x4.add (local.get $x) (local.get $x)) (local.get $ax)) ${splat(-GELU_K / 2)})
            ${madd(`(f32x4.pmin (local.get $z) ${splat(1e8)})`, splat(3 * GELU_C), splat(1))}))))`;
  return `
  (func (export "gelu_bwd") (param $a i32) (param $g i32) (param $d i32) (param $n i32) (local $end i32)
    (local $x v128) (local $e v128) (local $en v128) (local $er v128) (local $ei v128) (local $eh v128) (local $z v128) (local $ax v128) (local $q v128)
    ${constantLocals()}
    (local.set $end (i32.add (local.get $d) (i32.shl (i32.shr_u (i32.add (local.get $n) (i32.const 3)) (i32.const 2)) (i32.const 4))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $d) (local.get $end)))
      ${body}
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $g (i32.add (local.get $g) (i32.const 16)))
      (local.set $d (i32.add (local.get $d) (i32.const 16)))
      (br $next))))`;
}

// max_v(a, n): the largest of n floats, the caller padding to a whole number of 8-float steps with
// -Inf; NaN when any is NaN, as the TypeScript lane max. f32x4.max keeps NaN but V8 expands it into a
// long dependent sequence on x86; pmax (one maxps) in two accumulators plus a NaN flag is ~8x faster.
const MAX_V = `
  (func (export "max_v") (param $a i32) (param $n i32) (result f32) (local $end i32) (local $m0 v128) (local $m1 v128) (local $v v128) (local $w v128) (local $nan v128) (local $r f32)
    (local.set $m0 (v128.const f32x4 -inf -inf -inf -inf))
    (local.set $m1 (local.get $m0))
    (local.set $end (i32.add (local.get $a) (i32.shl (i32.shr_u (i32.add (local.get $n) (i32.const 7)) (i32.const 3)) (i32.const 5))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (local.set $v (v128.load (local.get $a)))
      (local.set $w (v128.load offset=16 (local.get $a)))
      (local.set $m0 (f32x4.pmax (local.get $m0) (local.get $v)))
      (local.set $m1 (f32x4.pmax (local.get $m1) (local.get $w)))
      (local.set $nan (v128.or (local.get $nan) (v128.or (f32x4.ne (local.get $v) (local.get $v)) (f32x4.ne (local.get $w) (local.get $w)))))
      (local.set $a (i32.add (local.get $a) (i32.const 32)))
      (br $next)))
    (local.set $m0 (f32x4.pmax (local.get $m0) (local.get $m1)))
    (local.set $r (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $m0)) (f32x4.extract_lane 1 (local.get $m0)))
      (f32.max (f32x4.extract_lane 2 (local.get $m0)) (f32x4.extract_lane 3 (local.get $m0)))))
    (select (f32.const nan) (local.get $r) (v128.any_true (local.get $nan))))`;

// layerNorm rows in double precision, two lanes (f64x2) at a time: each f32 vector is widened in two
// halves, so the statistics and the normalised values are the TypeScript kernel's up to the order of
// the sums. `rows` rows of n floats lie back to back from $x (and $dy, $d); the weight and bias rows
// are n floats each (the caller passes ones and -0s for an absent one: y * 1 and y + -0 are exact).
let label = 0;
const f64lo = (v: string): string => `(f64x2.promote_low_f32x4 ${v})`;
const f64hi = (v: string): string => `(f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${v} ${v}))`;
/** Address of element $i of the row at `base`. */
const at = (base: string): string => `(i32.add (local.get ${base}) (i32.shl (local.get $i) (i32.const 2)))`;
/** Runs `vector` for $i = 0, 4, .. below $n4, then `scalar` for the remaining $i below $n. */
function rowLoop(vector: string, scalar: string): string {
  const k = label++;
  return `(local.set $i (i32.const 0))
      (block $vd${k} (loop $vl${k}
        (br_if $vd${k} (i32.ge_u (local.get $i) (local.get $n4)))
        ${vector}
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vl${k})))
      (block $sd${k} (loop $sl${k}
        (br_if $sd${k} (i32.ge_u (local.get $i) (local.get $n)))
        ${scalar}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sl${k})))`;
}
const hsum = `(f64.add (f64x2.extract_lane 0 (f64x2.add (local.get $s0) (local.get $s1))) (f64x2.extract_lane 1 (f64x2.add (local.get $s0) (local.get $s1))))`;
const zeroSums = `(local.set $s0 (v128.const f64x2 0 0)) (local.set $s1 (v128.const f64x2 0 0))`;
/** Sets $mean/$M and $rstd/$R of the row at $xr (sum, then the centred squares, as laneStats does). */
const ROW_STATS = `${zeroSums}
      ${rowLoop(
        `(local.set $v (v128.load ${at('$xr')}))
        (local.set $s0 (f64x2.add (local.get $s0) ${f64lo('(local.get $v)')}))
        (local.set $s1 (f64x2.add (local.get $s1) ${f64hi('(local.get $v)')}))`,
        `(local.set $s0 (f64x2.replace_lane 0 (local.get $s0) (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64.promote_f32 (f32.load ${at('$xr')})))))`,
      )}
      (local.set $mean (f64.div ${hsum} (local.get $nf)))
      (local.set $M (f64x2.splat (local.get $mean)))
      ${zeroSums}
      ${rowLoop(
        `(local.set $v (v128.load ${at('$xr')}))
        (local.set $lo (f64x2.sub ${f64lo('(local.get $v)')} (local.get $M)))
        (local.set $hi (f64x2.sub ${f64hi('(local.get $v)')} (local.get $M)))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $hi) (local.get $hi))))`,
        `(local.set $c (f64.sub (f64.promote_f32 (f32.load ${at('$xr')})) (local.get $mean)))
        (local.set $s0 (f64x2.replace_lane 0 (local.get $s0) (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64.mul (local.get $c) (local.get $c)))))`,
      )}
      (local.set $rstd (f64.div (f64.const 1) (f64.sqrt (f64.add (f64.div ${hsum} (local.get $nf)) (local.get $eps)))))
      (local.set $R (f64x2.splat (local.get $rstd)))`;
const ROW_LOCALS = `(local $n4 i32) (local $i i32) (local $r i32) (local $xr i32) (local $gr i32) (local $dr i32) (local $nf f64)
    (local $s0 v128) (local $s1 v128) (local $v v128) (local $lo v128) (local $hi v128) (local $M v128) (local $R v128)
    (local $mean f64) (local $rstd f64) (local $c f64) (local $g f64)`;
/** Loops over the rows: sets $xr, $gr (from $dy) and $dr to row $r and runs `body`. */
function eachRow(body: string, dy: boolean): string {
  const k = label++;
  return `(local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $nf (f64.convert_i32_u (local.get $n)))
    (local.set $r (i32.const 0))
    (block $rd${k} (loop $rl${k}
      (br_if $rd${k} (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $xr (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 2))))
      ${dy ? '(local.set $gr (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 2))))' : ''}
      (local.set $dr (i32.add (local.get $d) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 2))))
      ${body}
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rl${k})))`;
}
/** Two f64x2 halves as one f32x4 (each rounded once). */
const narrow = (lo: string, hi: string): string =>
  `(i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero ${lo}) (f32x4.demote_f64x2_zero ${hi}))`;

// layernorm(x, w, b, d, n, rows, eps): y = (x - mean) * rstd * w + b: the statistics and the
// normalised x in double as layer-norm.ts computes them, rounded to f32, then * w + b in f32 (two more
// roundings, ~1e-7 relative; half the instructions of the f64 tail).
const LAYER_NORM = `
  (func (export "layernorm") (param $x i32) (param $w i32) (param $b i32) (param $d i32) (param $n i32) (param $rows i32) (param $eps f64)
    (local $dy i32) ${ROW_LOCALS}
    ${eachRow(
      `${ROW_STATS}
      ${rowLoop(
        `(local.set $v (v128.load ${at('$xr')}))
        (local.set $lo (f64x2.mul (f64x2.sub ${f64lo('(local.get $v)')} (local.get $M)) (local.get $R)))
        (local.set $hi (f64x2.mul (f64x2.sub ${f64hi('(local.get $v)')} (local.get $M)) (local.get $R)))
        (v128.store ${at('$dr')} (f32x4.add (f32x4.mul ${narrow('(local.get $lo)', '(local.get $hi)')} (v128.load ${at('$w')})) (v128.load ${at('$b')})))`,
        `(f32.store ${at('$dr')} (f32.add
          (f32.mul (f32.demote_f64 (f64.mul (f64.sub (f64.promote_f32 (f32.load ${at('$xr')})) (local.get $mean)) (local.get $rstd))) (f32.load ${at('$w')}))
          (f32.load ${at('$b')})))`,
      )}`,
      false,
    )})`;

// layernorm_bwd(x, dy, w, d, n, rows, eps): rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * w.
const LAYER_NORM_BACKWARD = `
  (func (export "layernorm_bwd") (param $x i32) (param $dy i32) (param $w i32) (param $d i32) (param $n i32) (param $rows i32) (param $eps f64)
    ${ROW_LOCALS} (local $G v128) (local $GX v128) (local $gMean f64) (local $gxMean f64) (local $gs f64) (local $gx f64)
    ${eachRow(
      `${ROW_STATS}
      ${zeroSums}
      (local.set $G (v128.const f64x2 0 0)) (local.set $GX (v128.const f64x2 0 0))
      ${rowLoop(
        `(local.set $v (v128.load ${at('$xr')}))
        (local.set $lo (f64x2.mul ${f64lo(`(v128.load ${at('$gr')})`)} ${f64lo(`(v128.load ${at('$w')})`)}))
        (local.set $hi (f64x2.mul ${f64hi(`(v128.load ${at('$gr')})`)} ${f64hi(`(v128.load ${at('$w')})`)}))
        (local.set $s0 (f64x2.add (local.get $s0) (local.get $lo)))
        (local.set $s1 (f64x2.add (local.get $s1) (local.get $hi)))
        (local.set $G (f64x2.add (local.get $G) (f64x2.mul (f64x2.mul (local.get $lo) (f64x2.sub ${f64lo('(local.get $v)')} (local.get $M))) (local.get $R))))
        (local.set $GX (f64x2.add (local.get $GX) (f64x2.mul (f64x2.mul (local.get $hi) (f64x2.sub ${f64hi('(local.get $v)')} (local.get $M))) (local.get $R))))`,
        `(local.set $g (f64.mul (f64.promote_f32 (f32.load ${at('$gr')})) (f64.promote_f32 (f32.load ${at('$w')}))))
        (local.set $s0 (f64x2.replace_lane 0 (local.get $s0) (f64.add (f64x2.extract_lane 0 (local.get $s0)) (local.get $g))))
        (local.set $G (f64x2.replace_lane 0 (local.get $G) (f64.add (f64x2.extract_lane 0 (local.get $G))
          (f64.mul (f64.mul (local.get $g) (f64.sub (f64.promote_f32 (f32.load ${at('$xr')})) (local.get $mean))) (local.get $rstd)))))`,
      )}
      (local.set $gMean (f64.div ${hsum} (local.get $nf)))
      (local.set $G (f64x2.add (local.get $G) (local.get $GX)))
      (local.set $gxMean (f64.div (f64.add (f64x2.extract_lane 0 (local.get $G)) (f64x2.extract_lane 1 (local.get $G))) (local.get $nf)))
      (local.set $G (f64x2.splat (local.get $gMean)))
      (local.set $GX (f64x2.splat (local.get $gxMean)))
      ${rowLoop(
        `(local.set $v (v128.load ${at('$xr')}))
        (local.set $lo (f64x2.mul (local.get $R) (f64x2.sub
          (f64x2.sub (f64x2.mul ${f64lo(`(v128.load ${at('$gr')})`)} ${f64lo(`(v128.load ${at('$w')})`)}) (local.get $G))
          (f64x2.mul (f64x2.mul (f64x2.sub ${f64lo('(local.get $v)')} (local.get $M)) (local.get $R)) (local.get $GX)))))
        (local.set $hi (f64x2.mul (local.get $R) (f64x2.sub
          (f64x2.sub (f64x2.mul ${f64hi(`(v128.load ${at('$gr')})`)} ${f64hi(`(v128.load ${at('$w')})`)}) (local.get $G))
          (f64x2.mul (f64x2.mul (f64x2.sub ${f64hi('(local.get $v)')} (local.get $M)) (local.get $R)) (local.get $GX)))))
        (v128.store ${at('$dr')} ${narrow('(local.get $lo)', '(local.get $hi)')})`,
        `(f32.store ${at('$dr')} (f32.demote_f64 (f64.mul (local.get $rstd) (f64.sub
          (f64.sub (f64.mul (f64.promote_f32 (f32.load ${at('$gr')})) (f64.promote_f32 (f32.load ${at('$w')}))) (local.get $gMean))
          (f64.mul (f64.mul (f64.sub (f64.promote_f32 (f32.load ${at('$xr')})) (local.get $mean)) (local.get $rstd)) (local.get $gxMean))))))`,
      )}`,
      true,
    )})`;

// rmsNorm rows bit for bit as kernels/rms-norm.ts computes them for f32: the row sums (sum of x * x,
// sum of g * x) in a scalar f64 loop in the TypeScript kernel's order (sequential adds; an f32 x f32
// product is exact in f64), the rest two (f64x2) or four (f32x4) lanes at a time, rounded to f32
// where the TypeScript kernel rounds: g = dy * w and x * rstd * w as f32.mul (the product rounded once,
// as Math.fround of the f64 product is). An absent weight is ones (y * 1 is y).
/** Runs `body` for $i = 0 .. $n - 1, one element at a time (the sums' order). */
function scalarLoop(body: string): string {
  const k = label++;
  return `(local.set $i (i32.const 0))
      (block $qd${k} (loop $ql${k}
        (br_if $qd${k} (i32.ge_u (local.get $i) (local.get $n)))
        ${body}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $ql${k})))`;
}
const xf64 = `(f64.promote_f32 (f32.load ${at('$xr')}))`;
/** Sets $rstd/$R of the row at $xr: 1 / sqrt(sum(x * x) / n + eps), the sum sequential as laneRstd's. */
const RMS_STATS = `(local.set $sq (f64.const 0))
      ${scalarLoop(`(local.set $p ${xf64})
        (local.set $sq (f64.add (local.get $sq) (f64.mul (local.get $p) (local.get $p))))`)}
      (local.set $rstd (f64.div (f64.const 1) (f64.sqrt (f64.add (f64.div (local.get $sq) (local.get $nf)) (local.get $eps)))))
      (local.set $R (f64x2.splat (local.get $rstd)))`;

// rmsnorm(x, w, d, n, rows, eps): d = f32(x * rstd) * w.
const RMS_NORM = `
  (func (export "rmsnorm") (param $x i32) (param $w i32) (param $d i32) (param $n i32) (param $rows i32) (param $eps f64)
    ${ROW_LOCALS} (local $sq f64) (local $p f64)
    ${eachRow(
      `${RMS_STATS}
      ${rowLoop(
        `(local.set $v (v128.load ${at('$xr')}))
        (v128.store ${at('$dr')} (f32x4.mul ${narrow(`(f64x2.mul ${f64lo('(local.get $v)')} (local.get $R))`, `(f64x2.mul ${f64hi('(local.get $v)')} (local.get $R))`)} (v128.load ${at('$w')})))`,
        `(f32.store ${at('$dr')} (f32.mul (f32.demote_f64 (f64.mul ${xf64} (local.get $rstd))) (f32.load ${at('$w')})))`,
      )}`,
      false,
    )})`;

// rmsnorm_bwd(x, dy, w, d, n, rows, eps): d = rstd * (g - x * k), g = f32(dy * w), k = mean(g * x) * rstd^2.
const RMS_NORM_BACKWARD = `
  (func (export "rmsnorm_bwd") (param $x i32) (param $dy i32) (param $w i32) (param $d i32) (param $n i32) (param $rows i32) (param $eps f64)
    ${ROW_LOCALS} (local $sq f64) (local $p f64) (local $gx f64) (local $k f64) (local $K v128) (local $G v128)
    ${eachRow(
      `${RMS_STATS}
      (local.set $gx (f64.const 0))
      ${scalarLoop(`(local.set $gx (f64.add (local.get $gx)
          (f64.mul (f64.promote_f32 (f32.mul (f32.load ${at('$gr')}) (f32.load ${at('$w')}))) ${xf64})))`)}
      (local.set $k (f64.mul (f64.mul (f64.div (local.get $gx) (local.get $nf)) (local.get $rstd)) (local.get $rstd)))
      (local.set $K (f64x2.splat (local.get $k)))
      ${rowLoop(
        `(local.set $v (v128.load ${at('$xr')}))
        (local.set $G (f32x4.mul (v128.load ${at('$gr')}) (v128.load ${at('$w')})))
        (local.set $lo (f64x2.mul (local.get $R) (f64x2.sub ${f64lo('(local.get $G)')} (f64x2.mul ${f64lo('(local.get $v)')} (local.get $K)))))
        (local.set $hi (f64x2.mul (local.get $R) (f64x2.sub ${f64hi('(local.get $G)')} (f64x2.mul ${f64hi('(local.get $v)')} (local.get $K)))))
        (v128.store ${at('$dr')} ${narrow('(local.get $lo)', '(local.get $hi)')})`,
        `(f32.store ${at('$dr')} (f32.demote_f64 (f64.mul (local.get $rstd) (f64.sub
          (f64.promote_f32 (f32.mul (f32.load ${at('$gr')}) (f32.load ${at('$w')})))
          (f64.mul ${xf64} (local.get $k))))))`,
      )}`,
      true,
    )})`;

/**
 * The WebAssembly text of the elementwise module (memory imported as env.memory): with `memory`
 * 'private', a memory of its own (ELEMENTWISE_PAGES) that callers copy operands into; with 'shared', the
 * agent's shared memory (f32-arena.ts), whose arena blocks it reads and writes in place.
 */
export function elementwiseWat(variant: 'simd128' | 'fma' = 'simd128', memory: 'private' | 'shared' = 'private'): string {
  fused = variant === 'fma';
  constBytes = memory === 'shared' ? SHARED_CONST_BYTES : CONST_BYTES;
  // Each build numbers its own constants, so its bytes do not depend on what was generated before.
  constants.clear();
  const funcs = Object.entries(ELEMENTWISE_OPS).map(([name, instr]) => `
  (func (export "${name}_vv") (param $a i32) (param $b i32) (param $d i32) (param $n i32) (local $end i32)
    ${loop(`(${instr} (v128.load (local.get $a)) (v128.load (local.get $b)))`, ['$a', '$b', '$d'])})
  (func (export "${name}_vs") (param $a i32) (param $s f32) (param $d i32) (param $n i32) (local $end i32) (local $v v128)
    (local.set $v (f32x4.splat (local.get $s)))
    ${loop(`(${instr} (v128.load (local.get $a)) (local.get $v))`, ['$a', '$d'])})
  (func (export "${name}_sv") (param $s f32) (param $b i32) (param $d i32) (param $n i32) (local $end i32) (local $v v128)
    (local.set $v (f32x4.splat (local.get $s)))
    ${loop(`(${instr} (local.get $v) (v128.load (local.get $b)))`, ['$b', '$d'])})`);
  const unary = Object.entries(unaryBodies()).map(([name, { body, result }]) => `
  (func (export "${name}_v") (param $a i32) (param $d i32) (param $n i32) (local $end i32)
    (local $x v128) (local $e v128) (local $en v128) (local $er v128) (local $ei v128) (local $eh v128) (local $z v128) (local $ax v128) (local $q v128)
    ${constantLocals()}
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
  (import "env" "memory" (memory ${memory === 'shared' ? `${SHARED_MIN_PAGES} 65536 shared` : ELEMENTWISE_PAGES}))${funcs.join('')}${unary.join('')}${ADAMW}${sumExp(false)}${sumExp(true)}${SCALE_SUB}${geluBackward()}${MAX_V}${LAYER_NORM}${LAYER_NORM_BACKWARD}${RMS_NORM}${RMS_NORM_BACKWARD}
  ${constantTable()}
)`;
}
