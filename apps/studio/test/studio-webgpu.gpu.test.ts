// The studio on WebGPU in headless Chromium (SwiftShader here, a real GPU elsewhere): the page picks
// navigator.gpu, shows the adapter, and trains the built-in model in its worker; the first steps'
// losses equal those of the same run with apps/trainer's loop on the CPU in Node. SwiftShader takes
// ~10-20 s a step, so this runs three small steps. Under CI a page without a WebGPU adapter fails
// the test; elsewhere it skips with a warning.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_SETTINGS, type RunSettings } from '../src/studio-protocol.js';
import { cpuLosses } from './cpu-reference.js';
import { haveBrowser, loadDefaults, openStudio, setKnob, shot, textOf, waitFor, type StudioSession } from './studio-harness.js';

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
    for (const k of ['steps', 'batch', 'maxLength', 'warmup', 'evalEvery', 'saveEvery'] as const) await setKnob(s!, k, SETTINGS[k]);
    await s!.page.click('#train');
    await waitFor(s!, 'webgpu training', () => s!.page.waitForFunction(() => /^done:/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 240_000 }));
    await shot(s!, '08-webgpu-trained');
    const gpu = JSON.parse((await s!.page.locator('#loss-chart').getAttribute('data-losses')) ?? '[]') as number[];
    const cpu = await cpuLosses(SETTINGS);
    console.info(`studio webgpu losses ${gpu.map((x) => x.toFixed(5)).join(', ')}; cpu ${cpu.map((x) => x.toFixed(5)).join(', ')}`);
    expect(gpu).toHaveLength(STEPS);
    for (let i = 0; i < STEPS; i++) expect(Math.abs(gpu[i]! - cpu[i]!), `step ${i + 1}: webgpu ${gpu[i]}, cpu ${cpu[i]}`).toBeLessThan(2e-3 * Math.abs(cpu[i]!) + 1e-3);
    expect(await textOf(s!, '#progress')).toMatch(/tokens\/s/);
    expect(s!.foreign).toEqual([]);
  });
});
