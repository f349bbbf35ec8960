// The studio on gpu.js's WebGL backend in headless Chromium (WebGL2 on SwiftShader, always present,
// so this is a plain test): chosen in the header, the worker trains the built-in model on gpu.js and
// the first steps' losses equal those of the same run with apps/trainer's loop on the CPU in Node.
// A browser with no WebGPU adapter and the WebGPU choice (the user asked for a GPU) falls back to
// gpu.js, not to the CPU.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_SETTINGS, type RunSettings } from '../src/studio-protocol.js';
import { expectCpuLosses } from './cpu-reference.js';
import { haveBrowser, loadDefaults, openStudio, shot, textOf, trainRun, type StudioSession } from './studio-harness.js';

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
    const gl = await trainRun(s!, SETTINGS, 'gpujs');
    await shot(s!, '09-gpujs-trained');
    await expectCpuLosses('gpujs', gl, SETTINGS);
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
