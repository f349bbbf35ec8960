// Times the gemm module alone (no packing, no copies) for one tile/block choice: `tsx wasm/tile.ts MR NR KC MC`.
// A tuning aid for wasm/gemm-wat.ts, not a benchmark of record (those live in benchmarks/).
import wabtInit from 'wabt';
import { gemmWat } from './gemm-wat.js';
const wabt = await wabtInit();
const F = { simd: true, threads: true };
const [mr, nr, kc, mc] = process.argv.slice(2).map(Number);
const mod = wabt.parseWat('g.wat', gemmWat({ mr, nr, kc, mc }), F); (mod.validate as any)(F);
const bytes = mod.toBinary({}).buffer;
const memory = new WebAssembly.Memory({ initial: 1000, maximum: 65536, shared: true });
const gemm = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), { env: { memory } }).exports.gemm as any;
for (const s of [256, 512, 1024]) {
  const mPad = Math.ceil(s / mr) * mr, nPad = Math.ceil(s / nr) * nr, k = s;
  const pa = 64, pb = pa + mPad * k * 4, pc = pb + nPad * k * 4;
  const f = new Float32Array(memory.buffer); for (let i = 16; i < (pc >> 2) + mPad * nPad; i++) f[i] = (i % 7) * 0.1;
  let best = 1e9;
  for (let r = 0; r < (s >= 1024 ? 5 : 20); r++) { const t0 = performance.now(); gemm(pa, pb, pc, mPad, nPad, k, 0, nPad / nr); best = Math.min(best, performance.now() - t0); }
  console.log(`mr${mr} nr${nr} kc${kc} mc${mc} size ${s}: ${best.toFixed(2)} ms ${(2 * s * s * s / best / 1e6).toFixed(1)} GFLOP/s`);
}
