// The fused attention ops on the GPT training step's shapes (B 8, H 4, T = S 128, D 64, causal, f32,
// q/k/v permuted views of (B, T, H, D)), whole heads per thread (attention-heads.ts) against chunks of
// batched products (attention-wasm.ts's path for larger heads), alternating in one process on one
// engine so a shared machine's load hits both alike: min and median ms a call.
//   cd packages/kernels-cpu && npx vitest run --config bench/vitest.config.ts bench/attention.bench-run.ts
// (ATTENTION_THREADS, ATTENTION_ROUNDS override 2 threads and 20 rounds.)
import { afterAll, test } from 'vitest';
import * as T from '@tessera/tensor';
import type { AttentionAttrs, OpDef, Tensor } from '@tessera/tensor';
import { createCpuBackend } from '../src/index.js';
import { wasmAttentionKernels } from '../src/kernels/attention-wasm.js';
import { WasmGemm } from '../src/wasm/wasm-gemm.js';

const threads = Number(process.env.ATTENTION_THREADS ?? 2);
const rounds = Number(process.env.ATTENTION_ROUNDS ?? 20);
const engine = new WasmGemm(threads);
afterAll(() => engine.close());
const PATHS = { heads: undefined, chunked: 0 } as const;
for (const [name, maxHeadScores] of Object.entries(PATHS)) {
  T.registerBackend(createCpuBackend({ name: `attention-${name}`, threads, kernels: new Map(wasmAttentionKernels(() => engine, undefined, undefined, maxHeadScores)) }));
}

test('attention ops on the training shapes: whole heads per thread vs chunked batched products', () => {
  const [B, H, Tn, D] = [8, 4, 128, 64];
  const attrs: AttentionAttrs = { causal: true, scale: 1 / Math.sqrt(D), hasMask: false, dropoutP: 0, dropoutStream: undefined };
  const gen = new T.Generator(1);
  const values = (shape: number[]): number[] => Array.from(T.randn(shape, { generator: gen }).dataSync());
  const raw = { q: values([B, Tn, H, D]), k: values([B, Tn, H, D]), v: values([B, Tn, H, D]), dO: values([B, H, Tn, D]), delta: values([B, H, Tn]) };
  const times = new Map<string, number[]>();
  const ops = [T.OPS.attentionForward, T.OPS.attentionGradQ, T.OPS.attentionGradKV] as OpDef<AttentionAttrs>[];
  const inputsOn = (device: string): Tensor[][] => {
    const heads = (x: number[]): Tensor => T.tensor(x, { shape: [B, Tn, H, D], device }).permute([0, 2, 1, 3]);
    const [q, k, v] = [heads(raw.q), heads(raw.k), heads(raw.v)];
    const packed = T.apply(T.OPS.attentionForward as OpDef<AttentionAttrs>, [q, k, v], attrs);
    const lse = packed.slice(-1, D, D + 1).reshape([B, H, Tn]);
    const grads = [q, k, v, T.tensor(raw.dO, { shape: [B, H, Tn, D], device }), lse, T.tensor(raw.delta, { shape: [B, H, Tn], device })];
    return [[q, k, v], grads, grads];
  };
  const inputs = Object.fromEntries(Object.keys(PATHS).map((p) => [p, inputsOn(`attention-${p}`)]));
  for (let r = 0; r < rounds + 2; r++) {
    ops.forEach((op, i) => {
      for (const path of Object.keys(PATHS)) {
        const t0 = performance.now();
        T.apply(op, inputs[path]![i]!, attrs).dispose();
        const ms = performance.now() - t0;
        const key = `${op.name} ${path}`;
        if (r >= 2) times.set(key, [...(times.get(key) ?? []), ms]);
      }
    });
  }
  const lines = [...times].map(([key, ts]) => {
    ts.sort((a, b) => a - b);
    return `${key.padEnd(26)} min ${ts[0]!.toFixed(2)}  median ${ts[ts.length >> 1]!.toFixed(2)} ms`;
  });
  console.log(`${threads} threads, ${rounds} rounds\n${lines.join('\n')}`);
});
