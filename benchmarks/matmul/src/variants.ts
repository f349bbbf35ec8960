/**
 * Tessera's two WebAssembly gemm builds side by side: 'fma' (relaxed SIMD's f32x4.relaxed_madd) and
 * 'simd128' (the fallback), on 1 thread and on every core, at the square 1024³ product and at the
 * GPT train step's shapes (benchmarks/train-step: 8×128 tokens, width 256, MLP 1024, vocabulary
 * 4096). The machine is shared and its load swings, so the builds alternate sample by sample in
 * one process and each figure is the median of its samples.
 *
 *   pnpm bench:matmul-variants                       the default shapes, 9 rounds
 *   pnpm bench:matmul-variants --shapes=1024x1024x1024 --rounds=5 --threads=1 --out=/tmp/v.json
 *
 * A shape is m×k×n: C (m×n) = A (m×k) · B (k×n). The train-step shapes multiply x @ W.T (W stored
 * n×k, the Linear layout); the square one multiplies dense A and B. Results go to
 * results/variants.json (temporary name, then renamed).
 */
import { cpus, loadavg } from 'node:os';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cpuGemmVariant, createCpuBackend, type GemmVariant } from '@tessera/kernels-cpu';
import { manualSeed, matmul, randn, registerBackend, type Tensor } from '@tessera/tensor';

const here = dirname(fileURLToPath(import.meta.url));
const VARIANTS: readonly GemmVariant[] = ['fma', 'simd128'];

interface Options {
  shapes: [number, number, number][];
  threads: number[];
  rounds: number;
  minSampleMs: number;
  out: string;
}

function parseArgs(argv: readonly string[]): Options {
  const cores = cpus().length;
  const opts: Options = {
    shapes: [[1024, 1024, 1024], [1024, 256, 768], [1024, 256, 4096], [1024, 1024, 256]],
    threads: [...new Set([1, cores])],
    rounds: 9,
    minSampleMs: 60,
    out: join(here, '..', 'results', 'variants.json'),
  };
  for (const arg of argv) {
    const [key, value = ''] = arg.replace(/^--/, '').split('=', 2) as [string, string?];
    switch (key) {
      case 'shapes':
        opts.shapes = value.split(',').map((s) => {
          const dims = s.split('x').map(Number);
          if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`bench-matmul-variants: --shapes takes m×k×n triples like 1024x256x768 (got "${s}")`);
          return dims as [number, number, number];
        });
        break;
      case 'threads': opts.threads = value.split(',').map(Number); break;
      case 'rounds': opts.rounds = Math.max(1, Number(value)); break;
      case 'min-sample-ms': opts.minSampleMs = Number(value); break;
      case 'out': opts.out = resolve(value); break;
      default:
        if (arg === '--') break;
        throw new Error(`bench-matmul-variants: unknown option "${arg}" (options: --shapes=MxKxN,... --threads=1,2 --rounds=9 --min-sample-ms=60 --out=file.json)`);
    }
  }
  if (opts.threads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`bench-matmul-variants: --threads must be positive integers (got ${opts.threads.join(',')})`);
  return opts;
}

/**
 * Wall and CPU milliseconds of one product (CPU: the whole process, worker threads included): `reps`
 * back-to-back products timed together. On a loaded machine the CPU time moves much less than the wall.
 */
function sample(a: Tensor, b: Tensor, reps: number): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) matmul(a, b).dispose();
  const wall = (performance.now() - t0) / reps;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e3 / reps };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const loadStart = loadavg()[0]!;
  const rows: Record<string, unknown>[] = [];
  for (const threads of opts.threads) {
    const backends = VARIANTS.map((variant) => {
      const backend = registerBackend(createCpuBackend({ name: `variants-${variant}-${threads}t`, threads, gemmVariant: variant }));
      if (cpuGemmVariant(backend) !== variant) throw new Error(`bench-matmul-variants: the backend for '${variant}' runs '${cpuGemmVariant(backend)}'`);
      return { variant, name: backend.name };
    });
    for (const [m, k, n] of opts.shapes) {
      manualSeed(7);
      const square = m === k && k === n;
      const inputs = backends.map(({ name }) => {
        const a = randn([m, k], { device: name });
        const b = square ? randn([k, n], { device: name }) : randn([n, k], { device: name }).T;
        return { a, b };
      });
      // Warm-up (starts the workers, grows the memories) and the repetitions for a sample.
      const once = inputs.map(({ a, b }) => (sample(a, b, 1), sample(a, b, 1).wall));
      const reps = Math.max(1, Math.ceil(opts.minSampleMs / Math.min(...once)));
      const samples = backends.map(() => [] as number[]);
      const cpuSamples = backends.map(() => [] as number[]);
      for (let round = 0; round < opts.rounds; round++) {
        // Alternate which build goes first, so neither always follows the other.
        const order = round % 2 ? [...backends.keys()].reverse() : [...backends.keys()];
        for (const i of order) {
          const { wall, cpu } = sample(inputs[i]!.a, inputs[i]!.b, reps);
          samples[i]!.push(wall);
          cpuSamples[i]!.push(cpu);
        }
      }
      for (const { a, b } of inputs) {
        a.dispose();
        b.dispose();
      }
      const shape = `${m}x${k}x${n}`;
      const line = backends.map(({ variant }, i) => {
        const ms = median(samples[i]!);
        const cpuMs = median(cpuSamples[i]!);
        const gflops = (2 * m * k * n) / ms / 1e6;
        // Per CPU-second of all threads together: what one core would do were it not shared.
        const gflopsPerCpuSecond = (2 * m * k * n) / cpuMs / 1e6;
        rows.push({ shape, m, k, n, layout: square ? 'A·B' : 'x·W.T', threads, variant, medianMs: ms, minMs: Math.min(...samples[i]!), gflops, medianCpuMs: cpuMs, gflopsPerCpuSecond, samples: samples[i]!.length, matmulsPerSample: reps });
        return `${variant} ${gflops.toFixed(1)} GFLOP/s (${ms.toFixed(2)} ms; ${gflopsPerCpuSecond.toFixed(1)} per CPU-s)`;
      });
      const [fma, simd] = rows.slice(-2) as { gflops: number; gflopsPerCpuSecond: number }[];
      console.log(`${threads}t ${shape.padEnd(15)} ${line.join('   ')}   fma/simd128 ${(fma!.gflops / simd!.gflops).toFixed(2)}x wall, ${(fma!.gflopsPerCpuSecond / simd!.gflopsPerCpuSecond).toFixed(2)}x CPU`);
    }
  }
  const report = {
    benchmark: 'matmul-variants',
    formatVersion: 1,
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
    loadAverage1m: { start: loadStart, end: loadavg()[0]! },
    settings: { rounds: opts.rounds, minSampleMs: opts.minSampleMs },
    method: 'per shape and thread count, the two builds alternate sample by sample; a sample times back-to-back products lasting >= minSampleMs; figure = median sample; GFLOP/s = 2mkn/wall time; gflopsPerCpuSecond = 2mkn/process CPU time (all threads)',
    results: rows,
  };
  mkdirSync(dirname(opts.out), { recursive: true });
  const tmp = `${opts.out}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(report, null, 2) + '\n');
  renameSync(tmp, opts.out);
  console.log(`wrote ${opts.out}`);
  // Idle gemm workers are unref'd, but be explicit: the benchmark is over.
  process.exit(0);
}

main();
