// The source of the WebAssembly SIMD gemm: a generator of WebAssembly text, so the MR×NR register
// block is written once and unrolled here rather than by hand. `wasm/build.ts` assembles it with
// wabt (pure JS) into `src/wasm/gemm-bytes.ts`; runtime code only ever sees those committed bytes.
//
// Layout the module expects (all offsets in bytes into the shared memory it imports):
// - packed A: for each depth block k0 (KC deep, the last one shorter), mPad/MR slivers of kc×MR
//   floats, the block starting at k0·mPad floats;
// - packed B: for each depth block, nPad/NR slivers of kc×NR floats, starting at k0·nPad floats;
// - C: mPad×nPad floats, row-major with ldc = nPad; the first depth block stores into it and later
//   ones add, so it needs no zeroing (except for k = 0, when the kernel writes nothing).

// Two builds of the module, chosen at run time (src/wasm/gemm-module.ts):
// - 'simd128' (SIMD128 alone: f32x4.mul + f32x4.add), 4×8. V8 allocates 15 xmm registers and hoists
//   every load of a step above its arithmetic, so 8 accumulators, 2 B vectors and the A broadcasts
//   fit; 6×8, 5×8, 4×12 and 3×16 spill (~24 GFLOP/s against ~42, 1024³, one thread, wasm/tile.ts).
// - 'fma' (relaxed SIMD's f32x4.relaxed_madd, one vfmadd231ps on x86 with FMA), 5×8: without the
//   product's temporary register, 10 accumulators fit when four rows of A come from one v128.load
//   and reach the lanes by shuffles (pure, so V8 places each just before its multiply-adds) and the
//   fifth is splat-loaded. The loop is issue-bound (~24 instructions a step, 10 of them FMAs):
//   5×8 ran at ~52 GFLOP/s, 4×8 FMA ~46, 3×12 and 2×16 ~48, SIMD128 4×8 ~38 (256³-512³, one thread,
//   alternating in one process); unrolling the depth loop made V8 spill (~35).
import { attentionRowsWat } from './attention-rows-wat.js';

/** Tile and block sizes of one build of the module (benchmarks try others). */
export interface GemmShape {
  readonly mr: number;
  readonly nr: number;
  readonly kc: number;
  readonly mc: number;
  /** Multiply-add with relaxed SIMD's f32x4.relaxed_madd (one fused instruction) instead of f32x4.mul + f32x4.add. */
  readonly fma?: boolean;
  /** Depth steps per trip of the micro-kernel's loop (default 1). */
  readonly unroll?: number;
  /**
   * How an element of A reaches all four lanes: 'load' (v128.load32_splat per element) or 'shuffle'
   * (one v128.load of the sliver's MR elements, then a lane shuffle per row).
   */
  readonly splat?: 'load' | 'shuffle';
}

/** The variants the package ships; KC: an MR×KC sliver of A and a KC×NR sliver of B stay in L1; MC×KC floats of A (a multiple of MR) sized for L2. */
export const GEMM_SHAPES = {
  simd128: { mr: 4, nr: 8, kc: 256, mc: 192 },
  fma: { mr: 5, nr: 8, kc: 256, mc: 200, fma: true, splat: 'shuffle' },
} as const satisfies Record<string, GemmShape>;

/** The WebAssembly text of the gemm module. */
export function gemmWat({ mr: MR, nr: NR, kc: KC, mc: MC, fma = false, unroll = 1, splat = 'load' }: GemmShape): string {
  if (MC % MR !== 0) throw new Error(`gemmWat: mc (${MC}) must be a multiple of mr (${MR}); the A blocks are whole slivers`);
  const NV = NR / 4;
  const accs: string[] = [];
  for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) accs.push(`$c${r}_${v}`);
  // With 'shuffle', whole groups of four rows come from one v128.load each; leftover rows are splat-loaded.
  const AV = splat === 'shuffle' ? Math.floor(MR / 4) : 0;
  const locals = [...accs, ...Array.from({ length: NV }, (_, v) => `$b${v}`), '$a', ...Array.from({ length: AV }, (_, v) => `$av${v}`)].map((n) => `(local ${n} v128)`).join(' ');
  const lane = (r: number): string => Array.from({ length: 16 }, (_, i) => (r % 4) * 4 + (i % 4)).join(' ');
  const madd = (c: string, a: string, b: string): string =>
    fma ? `(f32x4.relaxed_madd (local.get ${a}) (local.get ${b}) (local.get ${c}))` : `(f32x4.add (local.get ${c}) (f32x4.mul (local.get ${a}) (local.get ${b})))`;
  /** Depth step `u` of a trip: the loads are offset from $pa/$pb, which advance once per trip. */
  const stepAt = (u: number): string[] => {
    const out: string[] = [];
    for (let v = 0; v < NV; v++) out.push(`(local.set $b${v} (v128.load offset=${u * NR * 4 + v * 16} (local.get $pb)))`);
    for (let v = 0; v < AV; v++) out.push(`(local.set $av${v} (v128.load offset=${u * MR * 4 + v * 16} (local.get $pa)))`);
    for (let r = 0; r < MR; r++) {
      const av = `$av${r >> 2}`;
      out.push(
        r < AV * 4
          ? `(local.set $a (i8x16.shuffle ${lane(r)} (local.get ${av}) (local.get ${av})))`
          : `(local.set $a (v128.load32_splat offset=${u * MR * 4 + r * 4} (local.get $pa)))`,
      );
      for (let v = 0; v < NV; v++) out.push(`(local.set $c${r}_${v} ${madd(`$c${r}_${v}`, '$a', `$b${v}`)})`);
    }
    return out;
  };
  /** A loop of `steps`-deep trips: $pa and $pb advance past the trip, $counter counts trips down to 0. */
  const trips = (label: string, counter: string, steps: number): string => `(loop ${label}
      ${Array.from({ length: steps }, (_, u) => stepAt(u)).flat().join('\n      ')}
      (local.set $pa (i32.add (local.get $pa) (i32.const ${steps * MR * 4})))
      (local.set $pb (i32.add (local.get $pb) (i32.const ${steps * NR * 4})))
      (br_if ${label} (local.tee ${counter} (i32.sub (local.get ${counter}) (i32.const 1)))))`;
  // kc is at least 1. Unrolled: the kc mod unroll odd steps first, then whole trips.
  const microLoop =
    unroll === 1
      ? trips('$k', '$kc', 1)
      : `(local.set $rest (i32.rem_u (local.get $kc) (i32.const ${unroll})))
    (if (local.get $rest) (then ${trips('$odd', '$rest', 1)}))
    (local.set $kc (i32.div_u (local.get $kc) (i32.const ${unroll})))
    (if (local.get $kc) (then ${trips('$k', '$kc', unroll)}))`;
  /** The tile's accumulators written to C: added to what the earlier depth blocks left there, or (the first block) stored. */
  const storeTile = (add: boolean): string => {
    const out: string[] = [];
    for (let r = 0; r < MR; r++) {
      for (let v = 0; v < NV; v++) {
        const acc = `(local.get $c${r}_${v})`;
        out.push(`(v128.store offset=${v * 16} (local.get $pc) ${add ? `(f32x4.add (v128.load offset=${v * 16} (local.get $pc)) ${acc})` : acc})`);
      }
      if (r < MR - 1) out.push('(local.set $pc (i32.add (local.get $pc) (local.get $ldc)))');
    }
    return out.join('\n        ');
  };
  // One depth row of a full sliver `width` wide (NR for B, MR for A): scalar loads $csb bytes apart
  // (B = W.T, row-major A and other layouts).
  const gatherRow = (width: number): string[] =>
    Array.from({ length: width }, (_, c) => `(f32.store offset=${c * 4} (local.get $d) (f32.load (i32.add (local.get $s) (i32.mul (local.get $csb) (i32.const ${c})))))`);
  // The same row when its elements are contiguous ($cs = 1): v128 copies, then single floats.
  const copyRow = (width: number): string[] =>
    Array.from({ length: Math.ceil(width / 4) }, (_, v) =>
      4 * v + 4 <= width
        ? `(v128.store offset=${v * 16} (local.get $d) (v128.load offset=${v * 16} (local.get $s)))`
        : Array.from({ length: width - 4 * v }, (_, c) => `(f32.store offset=${v * 16 + c * 4} (local.get $d) (f32.load offset=${v * 16 + c * 4} (local.get $s)))`).join(' '),
    );
  // One depth row of a full f16/bf16 B sliver: per f32x4 of the sliver, 4 halves loaded (contiguous,
  // or gathered $csb bytes apart into lanes) and widened together.
  const halfRow = (contiguous: boolean): string[] => {
    const out: string[] = [];
    for (let v = 0; v < NV; v++) {
      if (contiguous) out.push(`(local.set $h (v128.load64_zero offset=${v * 8} (local.get $s)))`);
      else {
        out.push('(local.set $h (i32x4.splat (i32.const 0)))');
        for (let c = 0; c < 4; c++) out.push(`(local.set $h (v128.load16_lane ${c} (i32.add (local.get $s) (i32.mul (local.get $csb) (i32.const ${v * 4 + c}))) (local.get $h)))`);
      }
      out.push(`(v128.store offset=${v * 16} (local.get $d) (call $widen (i32x4.extend_low_i16x8_u (local.get $h)) (local.get $kind)))`);
    }
    return out;
  };
  /** One depth row after another of a full sliver `width` wide: `body` writes the row at $d from $s, then both advance. */
  const rowLoop = (body: readonly string[], width = NR): string => `(loop $row
                ${body.join('\n                ')}
                (local.set $d (i32.add (local.get $d) (i32.const ${width * 4})))
                (local.set $s (i32.add (local.get $s) (local.get $rsb)))
                (br_if $row (local.tee $p (i32.sub (local.get $p) (i32.const 1)))))`;
  /**
   * A B-packing function for elements of 2^`shift` bytes and slivers `width` wide (default NR): `full`
   * packs a full sliver (rowLoop), and `edgeLoad` reads element $c of the row at $s as an f32 for the
   * last, partial sliver. Packing A is packing Aᵀ this way, MR wide.
   */
  const packB = (f: { name: string; shift: number; width?: number; extra?: string; locals?: string; full: string; edgeLoad: string }): string => {
    const W = f.width ?? NR;
    return `(func ${f.name} (param $src i32) (param $rs i32) (param $cs i32) (param $n i32) (param $k i32) (param $nPad i32) (param $dst i32) (param $jsStart i32) (param $jsEnd i32) ${f.extra ?? ''}
    (local $k0 i32) (local $kc i32) (local $js i32) (local $j i32) (local $p i32) (local $c i32) (local $d i32) (local $s i32) (local $rsb i32) (local $csb i32) ${f.locals ?? ''}
    (local.set $rsb (i32.shl (local.get $rs) (i32.const ${f.shift})))
    (local.set $csb (i32.shl (local.get $cs) (i32.const ${f.shift})))
    (if (i32.or (i32.eqz (local.get $k)) (i32.ge_u (local.get $jsStart) (local.get $jsEnd))) (then (return)))
    (loop $kLoop
      (local.set $kc (select (i32.const ${KC}) (i32.sub (local.get $k) (local.get $k0)) (i32.lt_u (i32.const ${KC}) (i32.sub (local.get $k) (local.get $k0)))))
      (local.set $js (local.get $jsStart))
      (loop $jLoop
        (local.set $j (i32.mul (local.get $js) (i32.const ${W})))
        (local.set $d (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $k0) (local.get $nPad)) (i32.mul (local.get $j) (local.get $kc))) (i32.const 2))))
        (local.set $s (i32.add (local.get $src) (i32.add (i32.mul (local.get $k0) (local.get $rsb)) (i32.mul (local.get $j) (local.get $csb)))))
        (local.set $p (local.get $kc))
        (if (i32.le_u (i32.add (local.get $j) (i32.const ${W})) (local.get $n))
          (then ${f.full})
          (else (loop $row
            (local.set $c (i32.const 0))
            (loop $col
              (f32.store (i32.add (local.get $d) (i32.shl (local.get $c) (i32.const 2)))
                (if (result f32) (i32.lt_u (i32.add (local.get $j) (local.get $c)) (local.get $n))
                  (then ${f.edgeLoad})
                  (else (f32.const 0))))
              (br_if $col (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 1))) (i32.const ${W}))))
            (local.set $d (i32.add (local.get $d) (i32.const ${W * 4})))
            (local.set $s (i32.add (local.get $s) (local.get $rsb)))
            (br_if $row (local.tee $p (i32.sub (local.get $p) (i32.const 1)))))))
        (br_if $jLoop (i32.lt_u (local.tee $js (i32.add (local.get $js) (i32.const 1))) (local.get $jsEnd))))
      (local.set $k0 (i32.add (local.get $k0) (local.get $kc)))
      (br_if $kLoop (i32.lt_u (local.get $k0) (local.get $k)))))`;
  };
  return `(module
  (import "env" "memory" (memory 1 65536 shared))
  ${attentionRowsWat()}
  ;; C tile at $pc (rows $ldc bytes apart) += A sliver at $pa · B sliver at $pb over $kc depths; for the
  ;; first depth block ($first) C = that product, so C needs no zeroing beforehand.
  (func $micro (param $kc i32) (param $pa i32) (param $pb i32) (param $pc i32) (param $ldc i32) (param $first i32) ${locals}${unroll > 1 ? ' (local $rest i32)' : ''}
    ${microLoop}
    (if (local.get $first)
      (then
        ${storeTile(false)})
      (else
        ${storeTile(true)})))
  ;; Packs B slivers jsStart..jsEnd (all depth blocks) from the strided copy of B at $src (element
  ;; (p, j) at $src + 4·(p·$rs + j·$cs)); columns past $n are zero. Each thread packs the slivers it
  ;; multiplies, so packing B runs in parallel and needs no barrier.
  ${packB({
    name: '$packB',
    shift: 2,
    full: `(if (i32.eq (local.get $cs) (i32.const 1))
              (then ${rowLoop(copyRow(NR))})
              (else ${rowLoop(gatherRow(NR))}))`,
    edgeLoad: '(f32.load (i32.add (local.get $s) (i32.mul (local.get $c) (local.get $csb))))',
  })}
  ;; Packs A slivers $jsStart..$jsEnd (the job's range) from the strided copy of f32 A at $src: $packB's loops over Aᵀ
  ;; (called with A's column stride as $rs, its row stride as $cs and m as $n), MR wide. Threads pack
  ;; A in parallel before any of them multiplies (each needs all of A).
  ${packB({
    name: '$packA',
    shift: 2,
    width: MR,
    full: `(if (i32.eq (local.get $cs) (i32.const 1))
              (then ${rowLoop(copyRow(MR), MR)})
              (else ${rowLoop(gatherRow(MR), MR)}))`,
    edgeLoad: '(f32.load (i32.add (local.get $s) (i32.mul (local.get $c) (local.get $csb))))',
  })}
  ;; Four f16 (kind 2) or bf16 (kind 1) bit patterns, zero-extended in i32 lanes, as f32s. bf16 is the
  ;; top half of an f32. f16: the exponent/mantissa bits shifted into f32 position and scaled by 2^112
  ;; rebias the exponent and turn f16 subnormals into f32 normals exactly; Inf/NaN (exponent 31) keep
  ;; their mantissa under an all-ones f32 exponent; the sign is ORed back last.
  (func $widen (param $h v128) (param $kind i32) (result v128) (local $em v128) (local $mag v128)
    (if (i32.eq (local.get $kind) (i32.const 1)) (then (return (i32x4.shl (local.get $h) (i32.const 16)))))
    (local.set $em (v128.and (local.get $h) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff)))
    (local.set $mag (i32x4.shl (local.get $em) (i32.const 13)))
    (v128.or
      (v128.bitselect
        (v128.or (local.get $mag) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000))
        (f32x4.mul (local.get $mag) (v128.const f32x4 0x1p112 0x1p112 0x1p112 0x1p112))
        (i32x4.ge_u (local.get $em) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00)))
      (i32x4.shl (v128.and (local.get $h) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)) (i32.const 16))))
  ;; $packB for f16/bf16 B (kind 2/1): element (p, j) is the 16-bit word at $src + 2·(p·$rs + j·$cs),
  ;; widened to f32 while packing, so the micro-kernel stays f32 and no f32 copy of B is ever made.
  ${packB({
    name: '$packBHalf',
    shift: 1,
    extra: '(param $kind i32)',
    locals: '(local $h v128)',
    full: rowLoop([`(if (i32.eq (local.get $cs) (i32.const 1))
              (then ${halfRow(true).join('\n                ')})
              (else ${halfRow(false).join('\n                ')}))`]),
    edgeLoad: '(f32x4.extract_lane 0 (call $widen (i32x4.splat (i32.load16_u (i32.add (local.get $s) (i32.mul (local.get $c) (local.get $csb))))) (local.get $kind)))',
  })}
  ;; One thread's share: pack its B slivers (when $src is not 0, i.e. B was copied in raw; $kind 0 f32,
  ;; 1 bf16, 2 f16), then multiply them. $kind 3: only pack A slivers nStart..nEnd into $pa from the
  ;; raw f32 A at $src (element (i, p) at $src + 4·(i·$rs + p·$cs), $n = m rows).
  (func (export "job") (param $pa i32) (param $pb i32) (param $pc i32) (param $mPad i32) (param $nPad i32) (param $k i32) (param $nStart i32) (param $nEnd i32)
    (param $src i32) (param $rs i32) (param $cs i32) (param $n i32) (param $kind i32)
    (if (i32.eq (local.get $kind) (i32.const 3)) (then
      (call $packA (local.get $src) (local.get $cs) (local.get $rs) (local.get $n) (local.get $k) (local.get $mPad) (local.get $pa) (local.get $nStart) (local.get $nEnd))
      (return)))
    (if (local.get $src) (then
      (if (local.get $kind)
        (then (call $packBHalf (local.get $src) (local.get $rs) (local.get $cs) (local.get $n) (local.get $k) (local.get $nPad) (local.get $pb) (local.get $nStart) (local.get $nEnd) (local.get $kind)))
        (else (call $packB (local.get $src) (local.get $rs) (local.get $cs) (local.get $n) (local.get $k) (local.get $nPad) (local.get $pb) (local.get $nStart) (local.get $nEnd))))))
    (call $gemm (local.get $pa) (local.get $pb) (local.get $pc) (local.get $mPad) (local.get $nPad) (local.get $k) (local.get $nStart) (local.get $nEnd)))
  ;; Batch entries eStart..eEnd, each a packed A, packed B and C laid out back to back from
  ;; $base + e·$stride: a thread takes whole entries when they are too small to split.
  (func (export "batch") (param $base i32) (param $stride i32) (param $eStart i32) (param $eEnd i32) (param $mPad i32) (param $nPad i32) (param $k i32)
    (local $pa i32) (local $pb i32)
    (if (i32.ge_u (local.get $eStart) (local.get $eEnd)) (then (return)))
    (loop $e
      (local.set $pa (i32.add (local.get $base) (i32.mul (local.get $eStart) (local.get $stride))))
      (local.set $pb (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $mPad) (local.get $k)) (i32.const 2))))
      (call $gemm (local.get $pa) (local.get $pb) (i32.add (local.get $pb) (i32.shl (i32.mul (local.get $nPad) (local.get $k)) (i32.const 2)))
        (local.get $mPad) (local.get $nPad) (local.get $k) (i32.const 0) (i32.div_u (local.get $nPad) (i32.const ${NR})))
      (br_if $e (i32.lt_u (local.tee $eStart (i32.add (local.get $eStart) (i32.const 1))) (local.get $eEnd)))))
  ;; C = A·B over $k depths (at most KC) for a window of packed panels: A's slivers $aStride bytes
  ;; apart from $pa, B's (nStart..nEnd) $bStride apart from $pb, so the window may start at any depth
  ;; of one depth block and end before it does (the attention heads task skips causally zero depths).
  (func (export "gemmWindow") (param $pa i32) (param $pb i32) (param $pc i32) (param $mPad i32) (param $nPad i32) (param $k i32) (param $nStart i32) (param $nEnd i32) (param $aStride i32) (param $bStride i32)
    (local $js i32) (local $is i32) (local $isEnd i32) (local $ldc i32)
    (local.set $ldc (i32.shl (local.get $nPad) (i32.const 2)))
    (local.set $isEnd (i32.div_u (local.get $mPad) (i32.const ${MR})))
    (if (i32.or (i32.or (i32.eqz (local.get $k)) (i32.eqz (local.get $isEnd))) (i32.ge_u (local.get $nStart) (local.get $nEnd))) (then (return)))
    (local.set $js (local.get $nStart))
    (loop $jLoop
      (local.set $is (i32.const 0))
      (loop $sLoop
        (call $micro (local.get $k)
          (i32.add (local.get $pa) (i32.mul (local.get $is) (local.get $aStride)))
          (i32.add (local.get $pb) (i32.mul (local.get $js) (local.get $bStride)))
          (i32.add (local.get $pc) (i32.add (i32.mul (i32.mul (local.get $is) (i32.const ${MR})) (local.get $ldc)) (i32.mul (local.get $js) (i32.const ${NR * 4}))))
          (local.get $ldc) (i32.const 1))
        (br_if $sLoop (i32.lt_u (local.tee $is (i32.add (local.get $is) (i32.const 1))) (local.get $isEnd))))
      (br_if $jLoop (i32.lt_u (local.tee $js (i32.add (local.get $js) (i32.const 1))) (local.get $nEnd)))))
  ;; C[:, nStart·NR .. nEnd·NR) += A·B for packed A (mPad rows), packed B (nPad columns), depth k.
  ;; Workers each take a range of B slivers; the loops are BLIS's: depth block, A block, B sliver, A sliver.
  (func $gemm (export "gemm") (param $pa i32) (param $pb i32) (param $pc i32) (param $mPad i32) (param $nPad i32) (param $k i32) (param $nStart i32) (param $nEnd i32)
    (local $k0 i32) (local $kc i32) (local $i0 i32) (local $mc i32) (local $js i32) (local $is i32) (local $isEnd i32)
    (local $paBlock i32) (local $pbBlock i32) (local $ldc i32)
    (local.set $ldc (i32.shl (local.get $nPad) (i32.const 2)))
    (if (i32.or (i32.eqz (local.get $k)) (i32.ge_u (local.get $nStart) (local.get $nEnd))) (then (return)))
    (block $kDone (loop $kLoop
      (local.set $kc (select (i32.const ${KC}) (i32.sub (local.get $k) (local.get $k0)) (i32.lt_u (i32.const ${KC}) (i32.sub (local.get $k) (local.get $k0)))))
      (local.set $paBlock (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $k0) (local.get $mPad)) (i32.const 2))))
      (local.set $pbBlock (i32.add (local.get $pb) (i32.shl (i32.mul (local.get $k0) (local.get $nPad)) (i32.const 2))))
      (local.set $i0 (i32.const 0))
      (block $iDone (loop $iLoop
        (br_if $iDone (i32.ge_u (local.get $i0) (local.get $mPad)))
        (local.set $mc (select (i32.const ${MC}) (i32.sub (local.get $mPad) (local.get $i0)) (i32.lt_u (i32.const ${MC}) (i32.sub (local.get $mPad) (local.get $i0)))))
        (local.set $isEnd (i32.div_u (i32.add (local.get $i0) (local.get $mc)) (i32.const ${MR})))
        (local.set $js (local.get $nStart))
        (loop $jLoop
          (local.set $is (i32.div_u (local.get $i0) (i32.const ${MR})))
          (loop $sLoop
            (call $micro (local.get $kc)
              (i32.add (local.get $paBlock) (i32.mul (local.get $is) (i32.mul (local.get $kc) (i32.const ${MR * 4}))))
              (i32.add (local.get $pbBlock) (i32.mul (local.get $js) (i32.mul (local.get $kc) (i32.const ${NR * 4}))))
              (i32.add (local.get $pc) (i32.add (i32.mul (i32.mul (local.get $is) (i32.const ${MR})) (local.get $ldc)) (i32.mul (local.get $js) (i32.const ${NR * 4}))))
              (local.get $ldc) (i32.eqz (local.get $k0)))
            (br_if $sLoop (i32.lt_u (local.tee $is (i32.add (local.get $is) (i32.const 1))) (local.get $isEnd))))
          (br_if $jLoop (i32.lt_u (local.tee $js (i32.add (local.get $js) (i32.const 1))) (local.get $nEnd))))
        (local.set $i0 (i32.add (local.get $i0) (local.get $mc)))
        (br $iLoop)))
      (local.set $k0 (i32.add (local.get $k0) (local.get $kc)))
      (br_if $kLoop (i32.lt_u (local.get $k0) (local.get $k)))))))
`;
}
