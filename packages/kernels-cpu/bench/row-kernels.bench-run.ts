// The row kernels (GELU tanh form, layerNorm, cross-entropy) at the GPT train-step's shapes, four
// wirings interleaved in one process (min and median of the rounds): the scalar row tasks split over
// the worker pool with the adaptive gauge (`simd: false`, the path before the SIMD kernels), the SIMD
// kernels on the calling thread alone, the default (SIMD, split in place over arena blocks from 128K
// elements, adaptive), and the SIMD kernels always split (`simdMinElements`: 0, `adaptive`: false):
//   cd packages/kernels-cpu && npx vitest run --config bench/vitest.config.ts bench/row-kernels.bench-run.ts
// ROUNDS sets the rounds (default 20).
import { test } from 'vitest';
import * as T from '@tessera/tensor';
import { createCpuBackend } from '../src/index.js';
import { MIN_SPLIT_ELEMENTS, rowTaskKernels } from '../src/kernels/row-tasks-threaded.js';
import { WASM_SOFTMAX_KERNELS } from '../src/kernels/softmax-wasm.js';
import { CPU_KERNELS } from '../src/registry.js';
import { WasmGemm } from '../src/wasm/wasm-gemm.js';

const fallbacks = new Map<T.OpDef, unknown>([...CPU_KERNELS, ...WASM_SOFTMAX_KERNELS]);

test('row kernels: scalar split vs SIMD on the caller vs SIMD split (train-step shapes)', async () => {
  const rounds = Number(process.env.ROUNDS ?? 20);
  const engine = new WasmGemm(2);
  const wirings = [
    ['scalar-split', { simd: false, adaptive: true }],
    ['simd-caller', { simd: true, adaptive: true, simdMinElements: Infinity }],
    ['simd', { simd: true, adaptive: true }],
    ['simd-split', { simd: true, adaptive: false, simdMinElements: 0 }],
  ] as const;
  const devices = wirings.map(([name, opts]) => {
    const kernels = new Map(rowTaskKernels({ gemm: () => engine, minElements: MIN_SPLIT_ELEMENTS, fallback: (op) => fallbacks.get(op) as never, ...opts }));
    T.registerBackend(createCpuBackend({ name: `rows-${name}`, threads: 2, kernels }));
    return `rows-${name}`;
  });
  await engine.whenReady();
  // Operands as a kernel's results (x * 1), so large ones are blocks of the arena, as in a training step.
  const rand = (shape: number[], device: string, scale = 1): T.Tensor =>
    T.mul(T.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (Math.random() * 2 - 1) * scale), { shape, dtype: 'f32', device }), 1);
  const targets = (device: string): T.Tensor => T.tensor(Int32Array.from({ length: 1024 }, (_, i) => (i * 7919) % 4096), { shape: [1024], dtype: 'i32', device });
  const ce = { ignoreIndex: -100, labelSmoothing: 0 };
  const cases: [string, (device: string) => () => T.Tensor][] = [
    ['gelu (8,128,1024)', (d) => { const x = rand([8, 128, 1024], d, 3); return () => T.gelu(x, { approximate: 'tanh' }); }],
    ['geluBackward (8,128,1024)', (d) => { const x = rand([8, 128, 1024], d, 3); const g = rand([8, 128, 1024], d); return () => T.apply(T.OPS.geluBackward, [x, g], { approximate: 'tanh' }); }],
    ['layerNorm (8,128,256)', (d) => { const x = rand([8, 128, 256], d); const w = rand([256], d); const b = rand([256], d); return () => T.layerNorm(x, w, b, 1e-5); }],
    ['layerNormBackward (8,128,256)', (d) => { const x = rand([8, 128, 256], d); const dy = rand([8, 128, 256], d); const w = rand([256], d); return () => T.apply(T.OPS.layerNormBackward, [x, dy, w], { eps: 1e-5, hasWeight: true }); }],
    ['crossEntropyBackward (1024,4096)', (d) => { const x = rand([1024, 4096], d, 4); const t = targets(d); const g = T.full([1024], 1 / 1024, { device: d }); return () => T.apply(T.OPS.crossEntropyBackward, [x, t, g], ce); }],
    ['crossEntropyLosses (1024,4096)', (d) => { const x = rand([1024, 4096], d, 4); const t = targets(d); return () => T.apply(T.OPS.crossEntropyLosses, [x, t], ce); }],
  ];
  const lines: string[] = [];
  for (const [name, make] of cases) {
    const runs = devices.map((d) => make(d));
    runs.forEach((run) => run().dispose());
    const times = devices.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      runs.forEach((run, i) => {
        const t0 = performance.now();
        run().dispose();
        times[i]!.push(performance.now() - t0);
      });
    }
    const fmt = (ts: number[]): string => {
      const s = [...ts].sort((a, b) => a - b);
      return `min ${s[0]!.toFixed(2)} med ${s[s.length >> 1]!.toFixed(2)} ms`;
    };
    lines.push(`${name.padEnd(34)} ${wirings.map(([w], i) => `${w}: ${fmt(times[i]!)}`).join(' | ')}`);
  }
  engine.close();
  console.log(lines.join('\n'));
});
