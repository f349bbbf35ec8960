import { existsSync } from 'node:fs';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatExampleTokenizer, type TokenizedExample } from '@tessera/datasets';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { loadModel } from '@tessera/models';
import { PeftModel } from '@tessera/peft';
import { Generator, registerBackend } from '@tessera/tensor';
import { instructionTasks } from '../src/data/instruction-tasks.js';
import { evaluate } from '../src/evaluate.js';
import { htmlReport } from '../src/report/html-report.js';
import { trainLoop } from '../src/train-loop.js';
import { pretrainTinyBase } from './tiny-base.js';

// Debian's chromium (CI installs it in .ci/run); the test fails rather than skips without it. Playwright
// gives each launch a fresh temporary profile, which TOOLCHAIN.md asks for.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu'];

beforeAll(() => {
  registerBackend(createCpuBackend());
});

describe('report.html in headless Chromium', () => {
  it('renders the loss, validation and learning-rate curves and the before/after table of a real short run', async () => {
    expect(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`).toBe(true);
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-report-'));
    const base = path.join(dir, 'base');
    await pretrainTinyBase(base);
    const { model, tokenizer, config } = await loadModel(base);
    const chat = new ChatExampleTokenizer(tokenizer!, { maxLength: 64 });
    const tasks = instructionTasks(0, 3, 1);
    const train = tasks.train.map((e) => chat.tokenize(e.messages)).filter((t): t is TokenizedExample => t !== null);
    new PeftModel(model, { r: 4, loraAlpha: 8, targetModules: ['q_proj', 'v_proj'] }, 'default', { generator: new Generator(1) });
    const before = await evaluate(model, tokenizer!, chat, tasks.test, { maxNewTokens: 4 });
    const { records } = await trainLoop(model, train, config.padTokenId ?? 0, { lr: 5e-3, schedule: 'cosine', warmupSteps: 2, steps: 8, batchSize: 2, gradAccumulation: 1, maxGradNorm: 1, weightDecay: 0, seed: 0 });
    const after = await evaluate(model, tokenizer!, chat, tasks.test, { maxNewTokens: 4 });
    const html = htmlReport({ title: 'report test', records, validation: [[0, before.overall.loss], [records.length, after.overall.loss]], before, after, samples: [{ prompt: 'hi', reply: after.predictions[0]!.predicted }], summary: { steps: records.length } });
    const file = path.join(dir, 'report.html');
    await writeFile(file, html);

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
      const requests: string[] = [];
      page.on('request', (r) => void (r.url().startsWith('file:') || requests.push(r.url())));
      await page.goto(`file://${file}`);
      const charts = await page.$$eval('figure.chart', (figs) =>
        figs.map((f) => {
          const svg = f.querySelector('svg')!;
          const box = svg.getBoundingClientRect();
          return {
            title: f.querySelector('figcaption')!.textContent,
            width: box.width,
            height: box.height,
            series: [...svg.querySelectorAll('polyline.series')].map((p) => ({ name: p.getAttribute('data-name'), points: (p.getAttribute('points') ?? '').trim().split(/\s+/).filter(Boolean).length, length: (p as SVGPolylineElement).getTotalLength() })),
            markers: svg.querySelectorAll('circle').length,
            tickLabels: [...svg.querySelectorAll('text')].map((t) => t.textContent).filter(Boolean).length,
          };
        }),
      );
      expect(charts.map((c) => c.title)).toEqual(['Loss', 'Learning rate']);
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(400);
        expect(c.height).toBeGreaterThan(150);
        expect(c.tickLabels).toBeGreaterThan(6);
      }
      expect(charts[0]!.series.map((s) => [s.name, s.points])).toEqual([['train loss', 8], ['validation loss', 2]]);
      expect(charts[0]!.markers).toBe(2);
      expect(charts[1]!.series[0]!.points).toBe(8);
      for (const s of [...charts[0]!.series, ...charts[1]!.series]) expect(s.length).toBeGreaterThan(10);

      const rows = await page.$$eval('#before-after tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
      expect(rows.map((r) => r[0])).toEqual([...Object.keys(before.families), 'overall']);
      for (const r of rows) {
        expect(r).toHaveLength(6);
        expect(r.slice(1).every((cell) => /^\d+(\.\d+)?%?$/.test(cell))).toBe(true);
      }
      expect(requests).toEqual([]);
      const png = path.join(dir, 'report.png');
      await page.screenshot({ path: png, fullPage: true });
      expect((await stat(png)).size).toBeGreaterThan(20_000);
    } finally {
      await browser.close();
    }
  });
});
