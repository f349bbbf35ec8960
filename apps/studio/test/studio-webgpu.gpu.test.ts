// The studio on WebGPU in headless Chromium (SwiftShader here, a real GPU elsewhere): the page picks
// navigator.gpu, shows the adapter, and trains the built-in model in its worker; the first steps'
// losses equal those of the same run with apps/trainer's loop on the CPU in Node. SwiftShader takes
// ~10-20 s a step, so this runs three small steps. Under CI a page without a WebGPU adapter fails
// the test; elsewhere it skips with a warning.
import { ChatExampleTokenizer, type TokenizedExample } from '@tessera/datasets';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { loadModel } from '@tessera/models';
import { AdamW } from '@tessera/optim';
import { PeftModel } from '@tessera/peft';
import { Generator, registerBackend, setBackend } from '@tessera/tensor';
import { instructionTasks } from '@tessera/trainer/instruction-tasks';
import { trainLoop } from '@tessera/trainer/train-loop';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_SETTINGS, type RunSettings } from '../src/studio-protocol.js';
import { MODEL_DIR, haveBrowser, loadDefaults, openStudio, setKnob, shot, textOf, waitFor, type StudioSession } from './studio-harness.js';

const STEPS = 3;
const SETTINGS: RunSettings = { ...DEFAULT_SETTINGS, steps: STEPS, batch: 2, maxLength: 48, warmup: 1, evalEvery: 0, saveEvery: 0 };
let s: StudioSession | undefined;

beforeAll(async () => {
  if (haveBrowser) s = await openStudio('auto');
}, 180_000);

afterAll(() => s?.close());

/** The same run with the trainer's loop on the CPU in Node: the losses the page must reproduce. */
async function cpuLosses(): Promise<number[]> {
  registerBackend(createCpuBackend());
  setBackend('cpu');
  const { model, tokenizer, config } = await loadModel(MODEL_DIR, { device: 'cpu' });
  const chat = new ChatExampleTokenizer(tokenizer!, { maxLength: SETTINGS.maxLength, keepText: true });
  // The studio's built-in data: instructionTasks(0, 80, 4), the first 5% of nothing held out (the test split is).
  const train = instructionTasks(0, 80, 4).train.map((e) => chat.tokenize({ messages: e.messages })).filter((t): t is TokenizedExample => t !== null);
  new PeftModel(model, { r: SETTINGS.r, loraAlpha: SETTINGS.alpha, loraDropout: 0, targetModules: SETTINGS.targets, modulesToSave: ['embed_tokens'] }, 'default', { generator: new Generator(SETTINGS.seed) });
  const optimizer = new AdamW(model.trainableParameters(), { lr: SETTINGS.lr, weightDecay: 0 });
  const { records } = await trainLoop(model, train, config.padTokenId ?? 0, { lr: SETTINGS.lr, schedule: SETTINGS.schedule, warmupSteps: SETTINGS.warmup, steps: STEPS, batchSize: SETTINGS.batch, gradAccumulation: 1, maxGradNorm: 1, weightDecay: 0, seed: SETTINGS.seed }, { optimizer });
  return records.map((r) => r.loss);
}

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
    const cpu = await cpuLosses();
    console.info(`studio webgpu losses ${gpu.map((x) => x.toFixed(5)).join(', ')}; cpu ${cpu.map((x) => x.toFixed(5)).join(', ')}`);
    expect(gpu).toHaveLength(STEPS);
    for (let i = 0; i < STEPS; i++) expect(Math.abs(gpu[i]! - cpu[i]!), `step ${i + 1}: webgpu ${gpu[i]}, cpu ${cpu[i]}`).toBeLessThan(2e-3 * Math.abs(cpu[i]!) + 1e-3);
    expect(await textOf(s!, '#progress')).toMatch(/tokens\/s/);
    expect(s!.foreign).toEqual([]);
  });
});
