// The WebAssembly SIMD kernels and their worker threads in a real browser: test/browser-page.ts and
// test/browser-worker.ts are bundled with esbuild, served from a local http server with the COOP/COEP
// headers that make the page cross-origin isolated (SharedArrayBuffer, shared WebAssembly memory),
// and opened in headless Chromium driven by playwright-core (the approach of kernels-webgpu's browser
// test). Under CI a missing browser fails the test; elsewhere it skips with a warning.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PageResult } from './browser-page.js';
import { ARENA_BASE } from '../src/wasm/f32-arena.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Quiet headless flags (TOOLCHAIN.md: no network chatter). */
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
if (!haveBrowser) console.warn(`skipping the browser test: no browser at ${CHROMIUM} (set CHROMIUM_PATH)`);

let server: Server | undefined;
let url = '';

beforeAll(async () => {
  if (!haveBrowser) return;
  const bundle = await build({
    entryPoints: { page: fileURLToPath(new URL('./browser-page.ts', import.meta.url)), worker: fileURLToPath(new URL('./browser-worker.ts', import.meta.url)) },
    bundle: true,
    write: false,
    outdir: 'out',
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@tessera/source'],
    logLevel: 'silent',
  });
  const files = new Map(bundle.outputFiles.map((f) => [`/${f.path.split('/').pop()}`, f.text]));
  const html = '<!doctype html><meta charset="utf-8"><title>tessera kernels-cpu</title><script type="module" src="/page.js"></script>';
  server = createServer((req, res) => {
    // Cross-origin isolation: what SharedArrayBuffer and a shared WebAssembly.Memory need in a page.
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    res.setHeader('cross-origin-embedder-policy', 'require-corp');
    const js = files.get(req.url ?? '');
    res.setHeader('content-type', js !== undefined ? 'text/javascript' : 'text/html');
    res.end(js ?? html);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}, 60_000);

afterAll(() => server?.close());

describe.skipIf(!haveBrowser)('kernels-cpu WebAssembly kernels in headless Chromium', () => {
  test("cross-origin isolated page: gemm on 3 threads (2 Web Workers, the 'fma' build) and the 'simd128' fallback, SIMD elementwise and whole-head attention equal the TypeScript reference", async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    let result: PageResult;
    const logs: string[] = [];
    try {
      const page = await browser.newPage();
      page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
      await page.goto(url);
      await page.waitForFunction(() => (globalThis as { tesseraResult?: unknown }).tesseraResult !== undefined, null, { timeout: 100_000 });
      result = (await page.evaluate(() => (globalThis as { tesseraResult?: unknown }).tesseraResult)) as PageResult;
    } finally {
      await browser.close();
    }
    expect(result.crossOriginIsolated).toBe(true);
    // The page's main thread may not block, so its backend ran the product on one thread, correctly.
    expect('error' in result.mainThread ? result.mainThread.error : '').toBe('');
    if (!('error' in result.mainThread)) {
      expect(result.mainThread.threads).toBe(1);
      expect(result.mainThread.maxDiff).toBeLessThan(1e-3);
    }
    const worker = result.worker;
    expect(worker.ok ? '' : `${worker.error}\n${logs.join('\n')}`).toBe('');
    if (!worker.ok) return;
    expect(worker.threads).toBe(3);
    // The calling thread and both Web Workers ran slices.
    expect(worker.jobsPerThread).toHaveLength(3);
    for (const jobs of worker.jobsPerThread) expect(jobs).toBeGreaterThan(0);
    console.info(`browser: gemm build '${worker.variant}', ${worker.threads} threads, slices per thread ${worker.jobsPerThread.join('/')}, cases ${worker.cases.map((c) => c.name).join(', ')}`);
    // Large results lived in the shared memory's arena above the scratch region, and a block taken
    // before the memory grew further kept its values (a shared memory never detaches its buffer).
    console.info(`browser: arena ${worker.arena.usedBytes} bytes handed out, shared memory ${worker.arena.memoryBytes} bytes`);
    expect(worker.arena.usedBytes).toBeGreaterThan(0);
    expect(worker.arena.memoryBytes).toBeGreaterThan(ARENA_BASE);
    expect(worker.arena.keptAcrossGrowth).toBe(true);
    // Chromium accepts relaxed SIMD (on by default since 114), so the default build is the FMA one.
    expect(worker.variant).toBe('fma');
    expect(worker.cases).toHaveLength(9);
    for (const c of worker.cases) {
      expect(c.fast.length, c.name).toBe(c.reference.length);
      expect(c.fast.length, c.name).toBeGreaterThan(0);
      for (let i = 0; i < c.fast.length; i++) {
        const [x, y] = [c.fast[i]!, c.reference[i]!];
        if (c.check === 'exact') {
          if (!Object.is(x, y)) expect.fail(`${c.name}: element ${i}: wasm ${x}, TypeScript ${y}`);
        } else if (c.check === 'close') {
          if (!(Math.abs(x - y) <= 2e-4 * Math.abs(y) + 2e-5)) expect.fail(`${c.name}: element ${i}: wasm ${x}, TypeScript ${y}`);
        } else {
          const bound = (c.k! + 2) * 2 ** -23 * c.magnitude![i]! + 1e-30;
          if (!(Math.abs(x - y) <= bound)) expect.fail(`${c.name}: element ${i}: wasm ${x}, f64 reference ${y} (bound ${bound})`);
        }
      }
    }
  });
});
