// The source of the WebAssembly SIMD elementwise module: f32 add, sub, mul and div over runs of
// floats in the module's own memory, four lanes per step. `wasm/build.ts` assembles it with wabt into
// `src/wasm/elementwise-bytes.ts`. Each function processes ceil(n / 4) vectors: callers size their
// buffers in whole vectors, and the up to three extra lanes compute on padding nobody reads.
//
// Per op: `<op>_vv(a, b, d, n)`: d[i] = a[i] op b[i]; `<op>_vs(a, s, d, n)`: d[i] = a[i] op s;
// `<op>_sv(s, b, d, n)`: d[i] = s op b[i] (pointers are byte offsets, 16-byte aligned).

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
  return `(module
  (import "env" "memory" (memory 1))${funcs.join('')}
)`;
}
