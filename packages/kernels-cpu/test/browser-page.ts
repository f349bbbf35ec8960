// The page test/browser.test.ts opens in headless Chromium (served with COOP/COEP, so it is
// cross-origin isolated and has SharedArrayBuffer). It runs one large product on its own main thread
// (where the backend must stay on one thread: Atomics.wait is not allowed there), then starts
// test/browser-worker.ts, which runs the multi-threaded kernels, and puts everything on
// `window.tesseraResult` for the test to compare.
import * as T from '@tessera/tensor';
import { cpuThreadJobs, createCpuBackend, whenCpuThreadsReady } from '../src/index.js';
import type { WorkerResult } from './browser-worker.js';

/** What the page reports. */
export interface PageResult {
  readonly crossOriginIsolated: boolean;
  /** The main thread: the threads its backend uses (1) and the max |wasm - TypeScript| of a 128×200×150 product. */
  readonly mainThread: { readonly threads: number; readonly jobsPerThread: number[]; readonly maxDiff: number } | { readonly error: string };
  readonly worker: WorkerResult;
}

async function mainThread(): Promise<PageResult['mainThread']> {
  try {
    const backend = T.registerBackend(createCpuBackend({ name: 'page-cpu', threads: 4 }));
    T.registerBackend(createCpuBackend({ name: 'page-ts', wasm: false }));
    const v = Array.from({ length: 128 * 200 }, (_, i) => Math.sin(i));
    const w = Array.from({ length: 200 * 150 }, (_, i) => Math.cos(i * 0.3));
    const y = T.matmul(T.tensor(v, { shape: [128, 200], device: 'page-cpu' }), T.tensor(w, { shape: [200, 150], device: 'page-cpu' })).dataSync();
    const r = T.matmul(T.tensor(v, { shape: [128, 200], device: 'page-ts' }), T.tensor(w, { shape: [200, 150], device: 'page-ts' })).dataSync();
    let maxDiff = 0;
    for (let i = 0; i < y.length; i++) maxDiff = Math.max(maxDiff, Math.abs(Number(y[i]) - Number(r[i])));
    return { threads: await whenCpuThreadsReady(backend), jobsPerThread: cpuThreadJobs(backend), maxDiff };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

async function main(): Promise<PageResult> {
  const isolated = globalThis.crossOriginIsolated === true;
  const main = await mainThread();
  const worker = new Worker('/worker.js', { type: 'module' });
  const result = await new Promise<WorkerResult>((resolve) => {
    worker.onmessage = (e: MessageEvent<WorkerResult>) => resolve(e.data);
    worker.onerror = (e) => resolve({ ok: false, error: `worker error: ${e.message}` });
  });
  worker.terminate();
  return { crossOriginIsolated: isolated, mainThread: main, worker: result };
}

void main().then((r) => ((globalThis as { tesseraResult?: PageResult }).tesseraResult = r));
