// The GPT training step's products (2 threads) with operands and result in the shared memory's arena
// (read and written in place) against plain arrays (A and B copied in raw, C copied out), alternating
// in one process on one engine so a shared machine's load hits both alike: min and median ms a call.
//   cd packages/kernels-cpu && npx vitest run --config bench/vitest.config.ts bench/arena.bench-run.ts
// (ARENA_ROUNDS overrides 30 rounds.)
import { afterAll, expect, test } from 'vitest';
import { arenaRelease, arenaTake, configureArena } from '../src/wasm/f32-arena.js';
import { WasmGemm, type GemmOperand } from '../src/wasm/wasm-gemm.js';

const rounds = Number(process.env.ARENA_ROUNDS ?? 30);
const engine = new WasmGemm(2);
afterAll(() => engine.close());

test('the step products: operands and result in the arena vs plain arrays', () => {
  configureArena({ minElements: 1 });
  // [m, n, k, A transposed, B transposed]: x @ W.T forward and dX (B = W.T, W), dW = dYᵀ x (A transposed).
  const shapes: [number, number, number, boolean, boolean][] = [[1024, 768, 256, false, true], [1024, 256, 1024, false, true], [1024, 4096, 256, false, true], [1024, 256, 4096, false, false], [4096, 256, 1024, true, false], [256, 1024, 1024, true, false]];
  const lines: string[] = [];
  for (const [m, n, k, at, bt] of shapes) {
    const A = Float32Array.from({ length: m * k }, () => Math.random());
    const B = Float32Array.from({ length: k * n }, () => Math.random());
    const a = (data: Float32Array): GemmOperand => ({ data, offset: 0, rowStride: at ? 1 : k, colStride: at ? m : 1 });
    const b = (data: Float32Array): GemmOperand => ({ data, offset: 0, rowStride: bt ? 1 : n, colStride: bt ? k : 1 });
    const inA = arenaTake(m * k)!;
    const inB = arenaTake(k * n)!;
    inA.set(A);
    inB.set(B);
    const runs = { plain: { A: a(A), B: b(B), C: new Float32Array(m * n) }, arena: { A: a(inA), B: b(inB), C: arenaTake(m * n)! } };
    const times: Record<string, number[]> = { plain: [], arena: [] };
    for (let r = 0; r < rounds + 2; r++) {
      for (const [name, o] of Object.entries(runs)) {
        const t0 = performance.now();
        engine.matmul(m, n, k, o.A, o.B, o.C, 0);
        if (r >= 2) times[name]!.push(performance.now() - t0);
      }
    }
    expect(runs.arena.C).toEqual(runs.plain.C);
    const stat = (x: number[]): string => {
      const y = [...x].sort((p, q) => p - q);
      return `${y[0]!.toFixed(2)}/${y[y.length >> 1]!.toFixed(2)}`;
    };
    lines.push(`${m}x${n}x${k}${at ? ' A=xT' : ''}${bt ? ' B=WT' : ''}: plain ${stat(times.plain!)}, arena ${stat(times.arena!)} ms`);
    [inA, inB, runs.arena.C].forEach(arenaRelease);
  }
  console.log(`products, 2 threads, min/median of ${rounds}:\n${lines.join('\n')}`);
});
