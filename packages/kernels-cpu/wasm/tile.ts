// Times the gemm module alone (no packing, no copies) for several tile/block choices, alternating them
// in one process so a shared machine's load swings hit every choice alike:
// `tsx wasm/tile.ts 4x8/256/192/fma/u2 4x8/256/192 ...` (MRxNR/KC/MC, then `fma` for relaxed_madd and
// `uN` for an N-deep k-unroll, `shuf` for A splats by lane shuffle). A tuning aid for wasm/gemm-wat.ts, not a benchmark of record (those
// live in benchmarks/).
import { setFlagsFromString } from 'node:v8';
import { assembleWat } from './assemble.js';
import { gemmWat, type GemmShape } from './gemm-wat.js';

setFlagsFromString('--experimental-wasm-relaxed-simd');
const sizes = (process.env.TILE_SIZES ?? '256,1024').split(',').map(Number);
const rounds = Number(process.env.TILE_ROUNDS ?? 5);
const memory = new WebAssembly.Memory({ initial: 1000, maximum: 65536, shared: true });
const choices = await Promise.all(
  process.argv.slice(2).map(async (spec) => {
    const [tile, kc, mc, ...flags] = spec.split('/');
    const [mr, nr] = tile!.split('x').map(Number);
    const shape: GemmShape = { mr: mr!, nr: nr!, kc: Number(kc), mc: Number(mc), fma: flags.includes('fma'), unroll: Number(flags.find((f) => f.startsWith('u'))?.slice(1) ?? 1), splat: flags.includes('shuf') ? 'shuffle' : 'load' };
    const bytes = await assembleWat(gemmWat(shape), shape.fma === true);
    const gemm = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), { env: { memory } }).exports.gemm as (...args: number[]) => void;
    return { spec, shape, gemm, best: new Map<number, number>() };
  }),
);
for (let round = 0; round < rounds; round++) {
  for (const s of sizes) {
    for (const { shape, gemm, best } of choices) {
      const mPad = Math.ceil(s / shape.mr) * shape.mr, nPad = Math.ceil(s / shape.nr) * shape.nr, k = s;
      const pa = 64, pb = pa + mPad * k * 4, pc = pb + nPad * k * 4;
      const f = new Float32Array(memory.buffer);
      for (let i = 16; i < (pc >> 2) + mPad * nPad; i++) f[i] = (i % 7) * 0.1;
      const reps = s >= 1024 ? 1 : Math.ceil(2 ** 27 / s ** 3);
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) gemm(pa, pb, pc, mPad, nPad, k, 0, nPad / shape.nr);
      const ms = (performance.now() - t0) / reps;
      best.set(s, Math.min(best.get(s) ?? Infinity, ms));
    }
  }
}
for (const { spec, best } of choices) {
  console.log(`${spec.padEnd(22)} ${sizes.map((s) => `${s}: ${((2 * s ** 3) / best.get(s)! / 1e6).toFixed(1)} GFLOP/s`).join('  ')}`);
}
