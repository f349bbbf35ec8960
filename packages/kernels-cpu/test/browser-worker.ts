// The dedicated worker that test/browser-page.ts starts in headless Chromium: it runs the CPU backend
// with its WebAssembly SIMD kernels (the gemm's default build, and the SIMD128 fallback) on 3 threads (itself plus two nested Web Workers, all on one shared
// WebAssembly memory) next to the plain TypeScript backend, on the same inputs, and posts both sets of
// values back; test/browser.test.ts compares them. A worker, not the page, because the gemm's calling
// thread blocks in Atomics.wait, which a page's main thread may not do.
import * as T from '@tessera/tensor';
import type { Tensor } from '@tessera/tensor';
import { cpuGemmVariant, cpuThreadJobs, createCpuBackend, whenCpuThreadsReady, type GemmVariant } from '../src/index.js';
import { ARENA_MIN_ELEMENTS, agentMemory, arenaBlock, arenaStats, arenaTake } from '../src/wasm/f32-arena.js';

/** One case: the fast backend's values and the reference's, with what the comparison needs. */
export interface BrowserCase {
  readonly name: string;
  /** 'exact': bit for bit (elementwise); 'gemm': within (k + 2)·2^-23·Σ|a||b| of the f64 product; 'close': within 2e-4 relative + 2e-5. */
  readonly check: 'exact' | 'gemm' | 'close';
  readonly fast: number[];
  readonly reference: number[];
  /** For 'gemm': the depth k and Σ|a||b| per element. */
  readonly k?: number;
  readonly magnitude?: number[];
}

/** The shared memory's arena after the cases: bytes of blocks handed out, the memory's size, and whether a block taken before it grew kept its values. */
export interface ArenaReport {
  readonly usedBytes: number;
  readonly memoryBytes: number;
  readonly keptAcrossGrowth: boolean;
}

/** What the worker reports. */
export type WorkerResult =
  | { readonly ok: true; readonly threads: number; readonly jobsPerThread: number[]; readonly variant: GemmVariant | null; readonly cases: BrowserCase[]; readonly arena: ArenaReport }
  | { readonly ok: false; readonly error: string };

const THREADS = 3;
const fast = T.registerBackend(createCpuBackend({ name: 'cpu', threads: THREADS }));
const reference = T.registerBackend(createCpuBackend({ name: 'ts', wasm: false }));
// The SIMD128 fallback build, which runs where relaxed SIMD does not (Chromium has had relaxed SIMD since 114).
const fallback = T.registerBackend(createCpuBackend({ name: 'cpu-simd128', threads: 1, gemmVariant: 'simd128' }));

/** Deterministic values in [-2, 2) (a small LCG; the same inputs on both backends). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 4 - 2;
  });
}

/** The same tensor on both backends. */
function pair(shape: number[], seed: number, dtype: 'f32' | 'bf16' = 'f32', device = fast.name): [Tensor, Tensor] {
  const v = values(shape.reduce((a, b) => a * b, 1), seed);
  return [T.tensor(v, { shape, dtype, device }), T.tensor(v, { shape, dtype, device: reference.name })];
}

const list = (t: Tensor): number[] => Array.from(t.cast('f32').dataSync() as Float32Array);

function gemmCase(name: string, [a, ra]: [Tensor, Tensor], [b, rb]: [Tensor, Tensor]): BrowserCase {
  const y = T.matmul(a, b);
  const exact = T.matmul(ra.cast('f64'), rb.cast('f64'));
  const magnitude = T.matmul(ra.cast('f64').abs(), rb.cast('f64').abs());
  return { name, check: 'gemm', fast: list(y), reference: list(exact), k: a.shape.at(-1)!, magnitude: Array.from(magnitude.dataSync() as Float64Array) };
}

function exactCase(name: string, f: (x: Tensor, y: Tensor) => Tensor, x: [Tensor, Tensor], y: [Tensor, Tensor]): BrowserCase {
  return { name, check: 'exact', fast: list(f(x[0], y[0])), reference: list(f(x[1], y[1])) };
}

/**
 * attentionForward and both gradients, causal, on heads big enough to split across the threads (whole
 * heads per thread on the Web Workers, the module's row loops included), against the TypeScript
 * backend's (its decomposition, in f32), concatenated.
 */
function attentionCase(): BrowserCase {
  const attrs: T.AttentionAttrs = { causal: true, scale: 0.25, hasMask: false, dropoutP: 0, dropoutStream: undefined };
  const run = (device: string): number[] => {
    const qkv = [21, 22, 23].map((seed) => T.tensor(values(2 * 128 * 3 * 16, seed), { shape: [2, 128, 3, 16], device }).permute([0, 2, 1, 3]));
    const out = T.apply(T.OPS.attentionForward as T.OpDef<T.AttentionAttrs>, qkv, attrs);
    const lse = out.slice(-1, 16, 17).reshape([2, 3, 128]);
    const grads = [...qkv, T.tensor(values(2 * 3 * 128 * 16, 24), { shape: [2, 3, 128, 16], device }), lse, T.tensor(values(2 * 3 * 128, 25), { shape: [2, 3, 128], device })];
    return [out, T.apply(T.OPS.attentionGradQ as T.OpDef<T.AttentionAttrs>, grads, attrs), T.apply(T.OPS.attentionGradKV as T.OpDef<T.AttentionAttrs>, grads, attrs)].flatMap(list);
  };
  return { name: 'attention forward, gradQ, gradKV', check: 'close', fast: run(fast.name), reference: run(reference.name) };
}

async function run(): Promise<WorkerResult> {
  const threads = await whenCpuThreadsReady(fast);
  // A block taken before the cases' results grow the shared memory further (the first grows it past the scratch region).
  agentMemory();
  const probe = arenaTake(ARENA_MIN_ELEMENTS);
  probe?.fill(7);
  const memoryBefore = agentMemory().buffer.byteLength;
  const transpose = ([a, b]: [Tensor, Tensor]): [Tensor, Tensor] => [a.T, b.T];
  const cases: BrowserCase[] = [
    // (2, 96, 300) @ (300, 200): folds into one 192-row product of 11.5M multiply-adds, split by B slivers.
    gemmCase('matmul x @ W', pair([2, 96, 300], 1), pair([300, 200], 2)),
    // x @ W.T, the Linear layout; W in f32 and in bf16 (widened while packed, in the module on the workers).
    gemmCase('matmul x @ W.T', pair([160, 256], 3), transpose(pair([208, 256], 4))),
    gemmCase('matmul x @ W.T, W bf16', pair([160, 256], 5), transpose(pair([208, 256], 6, 'bf16'))),
    // 64 small products (attention's per-head scores): whole entries per thread.
    gemmCase('batched matmul', pair([64, 32, 64], 7), pair([64, 64, 32], 8)),
    gemmCase('matmul x @ W.T, simd128 build', pair([90, 200], 15, 'f32', fallback.name), transpose(pair([70, 200], 16, 'f32', fallback.name))),
    // WebAssembly SIMD elementwise: dense, scalar and row-broadcast operands.
    exactCase('add', (x, y) => T.add(x, y), pair([300, 257], 9), pair([300, 257], 10)),
    exactCase('mul row-broadcast', (x, y) => T.mul(x, y), pair([300, 257], 11), pair([257], 12)),
    exactCase('div', (x, y) => T.div(x, T.add(y.abs(), 0.5)), pair([5000], 13), pair([5000], 14)),
    attentionCase(),
  ];
  if (cpuGemmVariant(fallback) !== 'simd128') throw new Error(`the fallback backend runs '${cpuGemmVariant(fallback)}'`);
  const memoryBytes = agentMemory().buffer.byteLength;
  const block = probe && arenaBlock(probe);
  const keptAcrossGrowth = block !== null && memoryBytes > memoryBefore && probe!.every((x) => x === 7) && new Float32Array(agentMemory().buffer, block.byte, probe!.length).every((x) => x === 7);
  return { ok: true, threads, jobsPerThread: cpuThreadJobs(fast), variant: cpuGemmVariant(fast), cases, arena: { usedBytes: arenaStats().usedBytes, memoryBytes, keptAcrossGrowth } };
}

run().then(
  (r) => postMessage(r),
  (e: unknown) => postMessage({ ok: false, error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) } satisfies WorkerResult),
);
