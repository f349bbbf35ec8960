// The studio on gpu.js's WebGL backend in headless Chromium (WebGL2 on SwiftShader, always present,
// so this is a plain test): chosen in the header, the worker trains the built-in model on gpu.js and
// the first steps' losses equal those of the same run with apps/trainer's loop on the CPU in Node.
// A browser with no WebGPU adapter and the WebGPU choice (the user asked for a GPU) falls back to
// gpu.js, not to the CPU.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_SETTINGS, type RunSettings } from '../src/studio-protocol.js';
import { cpuLosses } from './cpu-reference.js';
import { haveBrowser, loadDefaults, openStudio, setKnob, shot, textOf, waitFor, type StudioSession } from './studio-harness.js';

// Two small steps: gpu.js on SwiftShader is a software rasteriser.
const STEPS = 2;
const SETTINGS: RunSettings = { ...DEFAULT_SETTINGS, steps: STEPS, batch: 2, maxLength: 48, warmup: 1, evalEvery: 0, saveEvery: 0 };
let s: StudioSession | undefined;

beforeAll(async () => {
  if (haveBrowser) s = await openStudio('webgl');
}, 180_000);

afterAll(() => s?.close());

describe.skipIf(!haveBrowser)('Tessera Studio on gpu.js (WebGL) in headless Chromium', () => {
  test('trains the built-in model on gpu.js with the losses of the CPU run', async () => {
    const backend = await textOf(s!, '#backend');
    console.info(`studio backend: ${backend}`);
    expect(backend, `the page's backend badge (console: ${s!.logs.slice(-10).join(' | ')})`).toMatch(/^gpujs \(webgl2? through gpu\.js\)$/);
    await loadDefaults(s!);
    expect(await textOf(s!, '#model-info')).toContain('on gpujs');
    for (const k of ['steps', 'batch', 'maxLength', 'warmup', 'evalEvery', 'saveEvery'] as const) await setKnob(s!, k, SETTINGS[k]);
    await s!.page.click('#train');
    await waitFor(s!, 'gpujs training', () => s!.page.waitForFunction(() => /^done:/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 240_000 }));
    await shot(s!, '09-gpujs-trained');
    const gl = JSON.parse((await s!.page.locator('#loss-chart').getAttribute('data-losses')) ?? '[]') as number[];
    const cpu = await cpuLosses(SETTINGS);
    console.info(`studio gpujs losses ${gl.map((x) => x.toFixed(5)).join(', ')}; cpu ${cpu.map((x) => x.toFixed(5)).join(', ')}`);
    expect(gl).toHaveLength(STEPS);
    for (let i = 0; i < STEPS; i++) expect(Math.abs(gl[i]! - cpu[i]!), `step ${i + 1}: gpujs ${gl[i]}, cpu ${cpu[i]}`).toBeLessThan(2e-3 * Math.abs(cpu[i]!) + 1e-3);
    const progress = await textOf(s!, '#progress');
    console.info(`studio gpujs progress: ${progress}`);
    expect(progress).toMatch(/tokens\/s/);
    expect(s!.foreign).toEqual([]);
  });

  test('asked for WebGPU in a browser without an adapter, the studio falls back to gpu.js', async () => {
    const noGpu = await openStudio('webgpu', { webgpu: false });
    try {
      const backend = await textOf(noGpu, '#backend');
      console.info(`studio backend without WebGPU: ${backend}`);
      expect(backend).toMatch(/^gpujs \(webgl2? through gpu\.js; WebGPU unavailable: .+\)$/);
      expect(noGpu.foreign).toEqual([]);
    } finally {
      await noGpu.close();
    }
  });
});
