// kernels-webgpu in a real browser: test/browser-page.ts is bundled with esbuild, served from a local
// http server (WebGPU needs a secure origin; 127.0.0.1 is one) and opened in headless Chromium driven
// by playwright-core. The page runs the same ops on navigator.gpu's WebGPU and on the CPU backend;
// here the values are compared. Debian's chromium (CI installs it with apt) exposes WebGPU headless
// with --enable-unsafe-webgpu, on its SwiftShader adapter. Under CI a missing browser or adapter
// fails the test; elsewhere it skips with a warning, like the other GPU tests.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BrowserResult } from './browser-page.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Quiet headless flags (TOOLCHAIN.md: no network chatter) plus the one WebGPU needs headless on Linux. */
const CHROMIUM_WEBGPU_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];
/** [relative, absolute] per case: f32 kernels as in cross-backend.ts; randn through WGSL's cos (absolute error 2^-11 allowed) times a radius of up to ~6. */
function tolerance(name: string): [number, number] {
  if (name.startsWith('training')) return [2e-4, 2e-4];
  if (name.startsWith('randn')) return [0, 6 * 2 ** -11];
  return [2e-5, 2e-5];
}

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
    // device.ts imports Dawn's Node binding only when navigator.gpu is absent; a page never loads it.
    external: ['webgpu'],
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]!.text;
  const html = '<!doctype html><meta charset="utf-8"><title>tessera webgpu</title><script type="module" src="/page.js"></script>';
  server = createServer((req, res) => {
    const js = req.url === '/page.js';
    res.setHeader('content-type', js ? 'text/javascript' : 'text/html');
    res.end(js ? script : html);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}, 60_000);

afterAll(() => server?.close());

describe.skipIf(!haveBrowser)('kernels-webgpu in headless Chromium', () => {
  test('navigator.gpu backend: matmul, softmax, layerNorm, reductions and an AdamW training step match the CPU backend in the page', async (ctx) => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_WEBGPU_FLAGS });
    let result: BrowserResult;
    const logs: string[] = [];
    try {
      const page = await browser.newPage();
      page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
      await page.goto(url);
      await page.waitForFunction(() => (globalThis as { tesseraResult?: unknown }).tesseraResult !== undefined, null, { timeout: 100_000 });
      result = (await page.evaluate(() => (globalThis as { tesseraResult?: unknown }).tesseraResult)) as BrowserResult;
    } finally {
      await browser.close();
    }
    if (!result.ok && /no GPU adapter/.test(result.error) && !process.env.CI) {
      console.warn(`skipping the browser test: Chromium offered no WebGPU adapter (${result.error})`);
      ctx.skip();
    }
    expect(result.ok ? '' : `${result.error}\n${logs.join('\n')}`).toBe('');
    if (!result.ok) return;
    expect(result.fromNavigatorGpu).toBe(true);
    // Debian's Chromium headless without a GPU: Dawn on SwiftShader ("google swiftshader"); a real GPU names
    // itself instead. TESSERA_BROWSER_ADAPTER (a regular expression) pins the one a machine must offer.
    expect(result.adapterName).not.toBe('unknown adapter');
    expect(result.adapterName).toMatch(new RegExp(process.env.TESSERA_BROWSER_ADAPTER ?? '\\S'));
    const maxDiff = (c: { cpu: number[]; webgpu: number[] }) => Math.max(...c.cpu.map((x, i) => Math.abs(x - c.webgpu[i]!)));
    console.info(`browser WebGPU adapter: ${result.adapterName}; max |cpu - webgpu|: ${result.cases.map((c) => `${c.name.split(' ')[0]} ${maxDiff(c).toExponential(1)}`).join(', ')}`);
    expect(result.cases.map((c) => c.name.split(' ')[0])).toEqual(['matmul', 'softmax', 'layerNorm', 'sum', 'randn', 'training:']);
    for (const c of result.cases) {
      const [rel, abs] = tolerance(c.name);
      expect(c.webgpu.length, c.name).toBe(c.cpu.length);
      expect(c.cpu.length, c.name).toBeGreaterThan(0);
      for (let i = 0; i < c.cpu.length; i++) {
        const [x, y] = [c.cpu[i]!, c.webgpu[i]!];
        if (!(Math.abs(x - y) <= abs + rel * Math.abs(x))) expect.fail(`${c.name}: element ${i}: cpu ${x}, webgpu ${y} (tolerance rel ${rel}, abs ${abs})`);
      }
    }
    const losses = result.cases.at(-1)!.webgpu.slice(0, 3);
    expect(losses[2]).toBeLessThan(losses[0]!);
    expect(result.leakedTensors).toBe(0);
    expect(result.boundsError).toMatch(/^gather: index 6 at position \[1,0\] of the index \[2,3\] is out of range for axis 0 of size 4/);
  });
});
