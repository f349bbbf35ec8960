// kernels-gpujs in a real browser through WebGL: test/browser-page.ts is bundled with esbuild (vitest
// replaced by browser-vitest-shim.ts, so the page runs the very property table of the Node tests),
// served from a local http server and opened in headless Chromium driven by playwright-core. Debian's
// chromium (CI installs it with apt) renders WebGL on SwiftShader without a GPU. The page runs every
// primitive's property and the 1-block transformer's loss and gradients on WebGL2 (?mode=gpu, gpu.js's
// pick) and on WebGL 1 (?mode=webgl); here the outcomes are checked. Under CI a missing browser fails
// the test; elsewhere it skips with a warning, like the other GPU tests.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BrowserResult } from './browser-page.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Quiet headless flags (TOOLCHAIN.md: no network chatter); WebGL needs none beyond them. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Loss and gradients of the transformer: f32 kernels composed through a forward and backward pass. */
const TRAINING_TOL: [number, number] = [2e-4, 2e-4];

const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
if (!haveBrowser) console.warn(`skipping the browser test: no browser at ${CHROMIUM} (set CHROMIUM_PATH)`);

let server: Server | undefined;
let url = '';

beforeAll(async () => {
  if (!haveBrowser) return;
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./browser-page.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@tessera/source'],
    // node-webgpu.ts imports Dawn's Node binding only for gpu.js's WebGPU mode; the page never loads it.
    external: ['webgpu'],
    alias: { vitest: fileURLToPath(new URL('./browser-vitest-shim.ts', import.meta.url)) },
    define: { 'process.env.FC_NUM_RUNS': JSON.stringify(process.env.FC_NUM_RUNS ?? ''), 'process.env.CI': JSON.stringify(process.env.CI ?? '') },
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]!.text;
  const html = '<!doctype html><meta charset="utf-8"><title>tessera gpujs</title><script type="module" src="/page.js"></script>';
  server = createServer((req, res) => {
    const js = req.url === '/page.js';
    // fast-check and the page are one module; no other file is served.
    res.setHeader('content-type', js ? 'text/javascript' : 'text/html');
    res.end(js ? script : html);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}, 60_000);

afterAll(() => server?.close());

describe.skipIf(!haveBrowser)('kernels-gpujs in headless Chromium (WebGL)', () => {
  for (const mode of ['gpu', 'webgl'] as const) {
    test(`gpu.js mode '${mode}': every primitive's property holds and the transformer's loss and gradients match the CPU backend`, async () => {
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
      let result: BrowserResult;
      const logs: string[] = [];
      try {
        const page = await browser.newPage();
        page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
        page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
        // Not 'load': the page's module runs every property under top-level await, which holds the load event.
        await page.goto(`${url}?mode=${mode}`, { waitUntil: 'commit' });
        await page.waitForFunction(() => (globalThis as { tesseraResult?: unknown }).tesseraResult !== undefined, null, { timeout: 280_000, polling: 500 });
        result = (await page.evaluate(() => (globalThis as { tesseraResult?: unknown }).tesseraResult)) as BrowserResult;
      } finally {
        await browser.close();
      }
      expect(result.ok ? '' : `${result.error}\n${logs.join('\n')}`).toBe('');
      if (!result.ok) return;
      // gpu.js picks WebGL2 where the page has it (Chromium does), and WebGL 1 when told.
      expect(result.mode).toBe(mode === 'gpu' ? 'webgl2' : 'webgl');
      const slowest = [...result.properties].sort((a, b) => b.ms - a.ms).slice(0, 3);
      console.info(`gpu.js ${result.mode} in Chromium: ${result.properties.length} properties of ${result.numRuns} runs, slowest ${slowest.map((p) => `${p.name} ${p.ms.toFixed(0)} ms`).join(', ')}`);
      expect(result.properties.length).toBeGreaterThan(40);
      // Eight lines: fast-check puts the counterexample on line 3 and the error it got on line 5.
      expect(result.properties.filter((p) => p.error !== null).map((p) => `${p.name}: ${p.error!.split('\n').slice(0, 8).join(' ')}`)).toEqual([]);
      const { cpu, gpujs } = result.training;
      expect(gpujs.length).toBe(cpu.length);
      const [rel, abs] = TRAINING_TOL;
      for (let i = 0; i < cpu.length; i++) {
        if (!(Math.abs(cpu[i]! - gpujs[i]!) <= abs + rel * Math.abs(cpu[i]!))) expect.fail(`transformer ${i === 0 ? 'loss' : `gradient value ${i - 1}`}: cpu ${cpu[i]}, gpujs ${gpujs[i]}`);
      }
      expect(result.leakedTensors).toBe(0);
      // 8-bit packed textures (what gpu.js falls back to without float textures) are detected and refused.
      expect(result.lowPrecisionError).toMatch(/gpujs: the webgl2? device computes below single precision .*use the WebGPU or cpu backend/);
    }, 300_000);
  }
});
