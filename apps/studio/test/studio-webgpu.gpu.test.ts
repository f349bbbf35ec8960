// The studio on WebGPU in headless Chromium (SwiftShader here, a real GPU elsewhere): the page picks
// navigator.gpu, shows the adapter, and trains the built-in model in its worker; the first steps'
// losses equal those of the same run with apps/trainer's loop on the CPU in Node. SwiftShader takes
// ~10-20 s a step, so this runs three small steps. Under CI a page without a WebGPU adapter fails
// the test; elsewhere it skips with a warning.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_SETTINGS, type RunSettings } from '../src/studio-protocol.js';
import { expectCpuLosses } from './cpu-reference.js';
import { haveBrowser, loadDefaults, openStudio, shot, textOf, trainRun, type StudioSession } from './studio-harness.js';

const STEPS = 3;
const SETTINGS: RunSettings = { ...DEFAULT_SETTINGS, steps: STEPS, batch: 2, maxLength: 48, warmup: 1, evalEvery: 0, saveEvery: 0 };
let s: StudioSession | undefined;

beforeAll(async () => {
  if (haveBrowser) s = await openStudio('auto');
}, 180_000);

afterAll(() => s?.close());

describe.skipIf(!haveBrowser)('Tessera Studio on WebGPU in headless Chromium', () => {
  test('trains the built-in model on navigator.gpu with the losses of the CPU run', async (ctx) => {
    const backend = await textOf(s!, '#backend');
    console.info(`studio backend: ${backend}`);
    if (!backend.startsWith('webgpu')) {
      if (process.env.CI) expect.fail(`the studio found no WebGPU adapter in Chromium under CI (backend: ${backend}); --enable-unsafe-webgpu gives SwiftShader on Debian's chromium`);
      console.warn(`skipping the studio WebGPU test: ${backend}`);
      ctx.skip();
    }
    await loadDefaults(s!);
    const gpu = await trainRun(s!, SETTINGS, 'webgpu');
    await shot(s!, '08-webgpu-trained');
    await expectCpuLosses('webgpu', gpu, SETTINGS);
    expect(await textOf(s!, '#progress')).toMatch(/tokens\/s/);
    expect(s!.foreign).toEqual([]);
  });
});
