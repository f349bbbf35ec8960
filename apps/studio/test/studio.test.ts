// The studio end to end on the CPU backend (WebAssembly kernels; the WebGPU path has its own test,
// studio-webgpu.gpu.test.ts, since SwiftShader takes ~20 s a step): load the built-in model and data,
// train with the loss falling on the chart, evaluate before and after, chat with and without the
// adapter, download the PEFT adapter and check in Node with @tessera/peft that it gives the same
// greedy replies; then reload the tab offline during a run and see it resume from its OPFS checkpoint.
// Screenshots of every stage go to test/screenshots/.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { generate, loadModel } from '@tessera/models';
import { PeftModel, fromPeftJson, loadAdapterFiles } from '@tessera/peft';
import { registerBackend, setBackend } from '@tessera/tensor';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MODEL_DIR, haveBrowser, loadDefaults, openStudio, seriesPoints, setKnob, shot, textOf, waitFor, type StudioSession } from './studio-harness.js';

const PROMPT = 'What is 7 + 5?';
let s: StudioSession;

beforeAll(async () => {
  if (haveBrowser) s = await openStudio('cpu');
}, 180_000);

afterAll(() => s?.close());

/** The greedy reply of the default model in Node, with the downloaded adapter or without. */
async function nodeReply(adapter: { config: string; weights: Uint8Array } | null): Promise<string> {
  const { model, tokenizer } = await loadModel(MODEL_DIR, { device: 'cpu' });
  if (adapter) loadAdapterFiles(new PeftModel(model, fromPeftJson(JSON.parse(adapter.config) as Record<string, unknown>)), adapter);
  const ids = tokenizer!.encode(tokenizer!.applyChatTemplate([{ role: 'user', content: PROMPT }], { addGenerationPrompt: true }).text, { addSpecialTokens: false }).ids;
  const out = await generate(model, [ids], { maxNewTokens: 32, tokenizer: tokenizer! });
  return out.text![0]!.trim();
}

/** The train losses behind the loss chart, by step. */
const lossesOf = async (s: StudioSession): Promise<number[]> => JSON.parse((await s.page.locator('#loss-chart').getAttribute('data-losses')) ?? '[]') as number[];

const mean = (ps: Array<[number, number]>): number => ps.reduce((n, p) => n + p[1], 0) / ps.length;

describe.skipIf(!haveBrowser)('Tessera Studio in headless Chromium (CPU backend)', () => {
  test('built-in model and data: trains with the loss falling, evaluates, chats, and the downloaded adapter gives the same replies in Node', async () => {
    const { page } = s;
    expect(await textOf(s, '#backend')).toMatch(/^cpu \(WebAssembly/);
    await shot(s, '01-start');
    await loadDefaults(s);
    expect(await page.locator('#mask-preview mark.trained').count()).toBeGreaterThan(0);
    await setKnob(s, 'steps', 12);
    await setKnob(s, 'warmup', 2);
    await setKnob(s, 'evalEvery', 4);
    await setKnob(s, 'saveEvery', 4);
    expect(await textOf(s, '#memory')).toMatch(/memory estimate per step: [\d.]+ MiB .* fits in navigator\.deviceMemory/);
    await shot(s, '02-data');

    await page.click('#eval-before');
    await waitFor(s, 'evaluation before', () => page.locator('#eval-table table').waitFor({ timeout: 120_000 }));
    await page.click('#train');
    await waitFor(s, 'training', () => page.waitForFunction(() => /^done:/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 180_000 }));
    const loss = await seriesPoints(s, '#loss-chart', 'train loss');
    expect(loss).toHaveLength(12);
    // Lower loss is drawn lower: the last steps sit below the first ones.
    expect(mean(loss.slice(-3))).toBeGreaterThan(mean(loss.slice(0, 3)));
    expect(await seriesPoints(s, '#loss-chart', 'validation loss')).toHaveLength(3);
    expect(await seriesPoints(s, '#lr-chart', 'lr')).toHaveLength(12);
    expect(await textOf(s, '#progress')).toMatch(/^step 12\/12 · loss [\d.]+ · lr \S+ · [\d.]+ tokens\/s$/);
    await page.click('#eval-after');
    await waitFor(s, 'evaluation after', () => page.locator('#before-after').waitFor({ timeout: 120_000 }));
    await shot(s, '03-trained');

    await page.locator('#chat-input').fill(PROMPT);
    await page.click('#chat-compare');
    await waitFor(s, 'chat', () => page.locator('#chat-log .turn').nth(1).waitFor({ timeout: 60_000 }));
    const baseReply = (await page.locator('#chat-log .turn[data-adapter=false] .reply').textContent()) ?? '';
    const adapterReply = (await page.locator('#chat-log .turn[data-adapter=true] .reply').textContent()) ?? '';
    await shot(s, '04-chat');

    const saved: Record<string, string> = {};
    page.on('download', (d) => void d.saveAs(path.join(s.work, d.suggestedFilename())).then(() => (saved[d.suggestedFilename()] = path.join(s.work, d.suggestedFilename()))));
    await page.click('#download-adapter');
    await page.click('#download-report');
    await waitFor(s, 'downloads', () => expect.poll(() => Object.keys(saved).sort(), { timeout: 30_000 }).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'report.html']));
    await shot(s, '05-downloads');
    expect(await readFile(saved['report.html']!, 'utf8')).toContain('Learning rate');

    const adapter = { config: await readFile(saved['adapter_config.json']!, 'utf8'), weights: new Uint8Array(await readFile(saved['adapter_model.safetensors']!)) };
    expect(JSON.parse(adapter.config)).toMatchObject({ peft_type: 'LORA', r: 8, lora_alpha: 16, modules_to_save: ['embed_tokens'], ensure_weight_tying: true });
    registerBackend(createCpuBackend());
    setBackend('cpu');
    expect(await nodeReply(null)).toBe(baseReply);
    expect(await nodeReply(adapter)).toBe(adapterReply);
    expect(s.foreign).toEqual([]);
  });

  test('a tab reloaded during training, offline, resumes from its last checkpoint', async () => {
    const { page, context } = s;
    await page.click('#new-run');
    await setKnob(s, 'steps', 24);
    await setKnob(s, 'saveEvery', 2);
    await setKnob(s, 'evalEvery', 0);
    await page.click('#train');
    await waitFor(s, 'a checkpoint', () => page.waitForFunction(() => Number((document.querySelector('#progress') as HTMLElement | null)?.dataset.checkpoint ?? 0) >= 4, null, { timeout: 90_000 }));
    // The service worker holds the whole build, so the reload needs no network at all.
    await waitFor(s, 'the offline cache', () => page.evaluate(() => Promise.race([navigator.serviceWorker.ready.then(() => undefined), new Promise((_, reject) => setTimeout(() => reject(new Error('the service worker never became ready')), 20_000))])));
    await context.setOffline(true);
    const lossesBefore = await lossesOf(s);
    await page.reload();
    await waitFor(s, 'resume banner', () => page.locator('#banner:not([hidden])').waitFor({ timeout: 60_000 }));
    const from = Number(/step (\d+)/.exec(await textOf(s, '#banner'))![1]);
    expect(from).toBeGreaterThanOrEqual(4);
    await waitFor(s, 'steps after the resume', () => page.waitForFunction((n) => Number(/^step (\d+)\//.exec(document.querySelector('#progress')?.textContent ?? '')?.[1] ?? 0) >= n + 3, from, { timeout: 120_000 }));
    await shot(s, '06-resumed');
    await page.click('#stop');
    await waitFor(s, 'stop', () => page.waitForFunction(() => /^stopped at step/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 60_000 }));
    // One point per step from step 1: the steps before the checkpoint came back from OPFS.
    const last = Number(/stopped at step (\d+)/.exec(await textOf(s, '#status'))![1]);
    expect(last).toBeGreaterThan(from);
    expect((await seriesPoints(s, '#loss-chart', 'train loss')).map(([x]) => x)).toHaveLength(last);
    // Steps up to the checkpoint come back from OPFS; the steps trained again after it match the ones
    // the closed tab had trained (same data order, same optimizer state).
    const lossesAfter = await lossesOf(s);
    const common = Math.min(lossesBefore.length, lossesAfter.length);
    expect(common).toBeGreaterThanOrEqual(from);
    for (let i = 0; i < common; i++) expect(lossesAfter[i], `step ${i + 1}`).toBeCloseTo(lossesBefore[i]!, 5);
    await shot(s, '07-stopped');
    await context.setOffline(false);
    expect(s.foreign).toEqual([]);
  });

  test('a Hugging Face folder picked from disk and a CSV data file: loaded, previewed, trained from OPFS copies', async () => {
    const { page } = s;
    await page.click('#new-run');
    await page.locator('#model-folder').setInputFiles(MODEL_DIR);
    await waitFor(s, 'picked model', () => page.waitForFunction(() => /^dropped folder: 3 layers/.test(document.querySelector('#model-info')?.textContent ?? ''), null, { timeout: 60_000 }));
    const csv = path.join(s.work, 'arithmetic.csv');
    const rows = Array.from({ length: 40 }, (_, i) => `"What is ${i} + ${i % 7}?",${i + (i % 7)}`);
    await writeFile(csv, ['prompt,completion', ...rows].join('\n') + '\n');
    await page.locator('#data-file').setInputFiles(csv);
    await waitFor(s, 'csv data', () => page.locator('#mask-preview .example').first().waitFor({ timeout: 60_000 }));
    const info = await textOf(s, '#data-info');
    expect(info).toMatch(/^arithmetic\.csv \(prompt-completion\): 38 training records, 2 held out/);
    expect(await page.locator('#mask-preview .example').first().innerText()).toContain('What is 2 + 2?');
    await setKnob(s, 'steps', 2);
    await setKnob(s, 'batch', 4);
    await setKnob(s, 'saveEvery', 1);
    await page.click('#train');
    await waitFor(s, 'training on the csv', () => page.waitForFunction(() => /^done: 2 steps/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 120_000 }));
    await shot(s, '09-picked-folder-csv');
    // The picked files were copied into the browser's own storage, where a reload would find them.
    const stored = await page.evaluate(async () => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('tessera-studio');
      const names = async (d: FileSystemDirectoryHandle): Promise<string[]> => {
        const out: string[] = [];
        for await (const name of (d as unknown as { keys(): AsyncIterable<string> }).keys()) out.push(name);
        return out.sort();
      };
      return { model: await names(await dir.getDirectoryHandle('model')), data: await names(await dir.getDirectoryHandle('data')) };
    });
    expect(stored).toEqual({ model: ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'], data: ['arithmetic.csv'] });

    // A record in no known format is reported by number and skipped; the others load.
    const jsonl = path.join(s.work, 'notes.jsonl');
    const chat = (q: string, a: string): string => JSON.stringify({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: a }] });
    await writeFile(jsonl, [chat('Hi?', 'Hello.'), JSON.stringify({ text: 'plain text, no roles' }), chat('Bye?', 'Goodbye.'), chat('Name?', 'Tessera.')].join('\n') + '\n');
    await page.locator('#data-file').setInputFiles(jsonl);
    await waitFor(s, 'jsonl data', () => page.waitForFunction(() => /^notes\.jsonl/.test(document.querySelector('#data-info')?.textContent ?? ''), null, { timeout: 30_000 }));
    expect(await textOf(s, '#data-info')).toMatch(/^notes\.jsonl \(messages\): 2 training records, 1 held out[\s\S]*skipped: notes\.jsonl record 2: /);
    expect(s.foreign).toEqual([]);
  });
});
