// Shared by the studio's browser tests: Vite builds the app into a temporary folder, a local server
// serves it, and Debian's Chromium (headless, driven by playwright-core; WebGPU through SwiftShader
// with --enable-unsafe-webgpu) opens it. Every request is watched: all must go to the studio's origin.
// Under CI a missing browser fails the tests; elsewhere they skip with a warning.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import type { RunSettings } from '../src/studio-protocol.js';
import { serveFolder } from './studio-server.js';

export const APP = fileURLToPath(new URL('..', import.meta.url));
export const MODEL_DIR = path.join(APP, '../trainer/assets/default-model');
const SHOTS = path.join(APP, 'test/screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu'];

export const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.CI) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
if (!haveBrowser) console.warn(`skipping the studio tests: no browser at ${CHROMIUM} (set CHROMIUM_PATH)`);

/** A built studio served locally with a browser page on it. */
export interface StudioSession {
  url: string;
  work: string;
  context: BrowserContext;
  page: Page;
  logs: string[];
  /** Requests to anywhere but the studio's own origin; must stay empty. */
  foreign: string[];
  close(): Promise<void>;
}

/**
 * Builds the app, serves it, opens a page with `backend` ('auto' | 'webgpu' | 'webgl' | 'cpu') chosen.
 * `webgpu: false` starts Chromium without --enable-unsafe-webgpu, a browser with no WebGPU adapter.
 */
export async function openStudio(backend: string, opts: { webgpu?: boolean } = {}): Promise<StudioSession> {
  const work = await mkdtemp(path.join(tmpdir(), 'tessera-studio-'));
  // vitest sets NODE_ENV=test; the app under test is the production build users get.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: APP, configFile: path.join(APP, 'vite.config.ts'), mode: 'production', logLevel: 'error', build: { outDir: path.join(work, 'dist'), emptyOutDir: true } });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  const server = await serveFolder(path.join(work, 'dist'));
  await mkdir(SHOTS, { recursive: true });
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: opts.webgpu === false ? FLAGS.filter((f) => f !== '--enable-unsafe-webgpu') : FLAGS });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 1400 } });
  const foreign: string[] = [];
  // Watched rather than routed: routing requests would keep the service worker from installing.
  context.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(server.url) && !u.startsWith('blob:') && !u.startsWith('data:')) foreign.push(u);
  });
  // The compute choice lives in localStorage, as when a user picks it in the header.
  await context.addInitScript((b) => localStorage.getItem('tessera-studio:backend') || localStorage.setItem('tessera-studio:backend', b), backend);
  const page = await context.newPage();
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(server.url);
  await page.waitForFunction(() => !document.querySelector('#backend')?.textContent?.includes('starting'), null, { timeout: 60_000 });
  return {
    url: server.url,
    work,
    context,
    page,
    logs,
    foreign,
    close: async () => {
      await browser.close();
      await server.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as test/screenshots/<name>.png. */
export const shot = (s: StudioSession, name: string): Promise<Buffer> => s.page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

/** An element's text. */
export const textOf = (s: StudioSession, sel: string): Promise<string> => s.page.locator(sel).innerText();

/** Runs a wait; on failure the error carries the page's status line and its last console lines, and a screenshot is saved. */
export async function waitFor(s: StudioSession, what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    await shot(s, `failed-${what.replace(/\W+/g, '-')}`).catch(() => undefined);
    throw new Error(`${what}: ${(err as Error).message}\nstatus: ${await textOf(s, '#status').catch(() => '?')}\nprogress: ${await textOf(s, '#progress').catch(() => '?')}\nconsole:\n${s.logs.slice(-30).join('\n')}`);
  }
}

/** Fills a knob of the LoRA/training form and lets the page re-estimate memory. */
export async function setKnob(s: StudioSession, name: string, value: number): Promise<void> {
  await s.page.locator(`#knobs [name=${name}]`).fill(String(value));
  await s.page.locator(`#knobs [name=${name}]`).dispatchEvent('change');
}

/** The (x, y) points of a chart series, in SVG coordinates (y grows downwards). */
export async function seriesPoints(s: StudioSession, chart: string, name: string): Promise<Array<[number, number]>> {
  const pts = (await s.page.locator(`${chart} polyline[data-name="${name}"]`).getAttribute('points')) ?? '';
  return pts.split(' ').filter(Boolean).map((p) => p.split(',').map(Number) as [number, number]);
}

/** Clicks the built-in model and data buttons and waits for the loss-mask preview. */
export async function loadDefaults(s: StudioSession): Promise<void> {
  await s.page.click('#load-default-model');
  await waitFor(s, 'model', () => s.page.waitForFunction(() => /layers/.test(document.querySelector('#model-info')?.textContent ?? ''), null, { timeout: 60_000 }));
  await s.page.click('#load-default-data');
  await waitFor(s, 'data', () => s.page.locator('#mask-preview .example').first().waitFor({ timeout: 60_000 }));
}

/** Sets the run's knobs, trains until the status line says done, and returns the chart's per-step losses. */
export async function trainRun(s: StudioSession, settings: RunSettings, what: string): Promise<number[]> {
  for (const k of ['steps', 'batch', 'maxLength', 'warmup', 'evalEvery', 'saveEvery'] as const) await setKnob(s, k, settings[k]);
  await s.page.click('#train');
  await waitFor(s, `${what} training`, () => s.page.waitForFunction(() => /^done:/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 240_000 }));
  return JSON.parse((await s.page.locator('#loss-chart').getAttribute('data-losses')) ?? '[]') as number[];
}
