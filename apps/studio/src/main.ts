// The studio page: forms, drop zones, charts and chat. Every computation happens in the training
// worker (studio-worker.ts); the page only sends requests and draws what comes back.
import './studio.css';
import { beforeAfterRows } from '@tessera/trainer/before-after-table';
import type { Evaluation } from '@tessera/trainer/evaluate';
import { trainingCurves } from '@tessera/trainer/training-curves';
import type { StepRecord } from '@tessera/trainer/train-loop';
import { StudioClient } from './studio-client.js';
import { DEFAULT_SETTINGS, type BackendChoice, type DataInfo, type ModelInfo, type ModelSource, type RunSettings, type RunView, type WorkerEvent } from './studio-protocol.js';

const ALL_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const CHOICE_KEY = 'tessera-studio:backend';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`studio page: no element #${id}`);
  return el as T;
};
const button = (id: string): HTMLButtonElement => $<HTMLButtonElement>(id);
const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 2 : 1)} MiB`;

/** What the page holds of the run, to redraw the charts. */
const state = {
  records: [] as StepRecord[],
  validation: [] as Array<[number, number]>,
  total: DEFAULT_SETTINGS.steps,
  before: null as Evaluation | null,
  after: null as Evaluation | null,
  modelLoaded: false,
  dataLoaded: false,
  training: false,
  trained: false,
};

function setStatus(text: string, error = false): void {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

function drawCharts(): void {
  // The numbers behind the curve, for tools and tests that read the page.
  $('loss-chart').dataset.losses = JSON.stringify(state.records.map((r) => r.loss));
  const { loss, lr } = trainingCurves(state.records, state.validation, { lrHeight: 200 });
  $('loss-chart').innerHTML = loss;
  $('lr-chart').innerHTML = lr;
}

function drawEval(): void {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const { before, after } = state;
  if (before && after) {
    const rows = beforeAfterRows(before, after)
      .map((x) => `<tr><td>${escapeHtml(x.family)}</td><td>${pct(x.emBefore)}</td><td>${pct(x.emAfter)}</td><td>${x.lossBefore.toFixed(3)}</td><td>${x.lossAfter.toFixed(3)}</td></tr>`)
      .join('');
    $('eval-table').innerHTML = `<table id="before-after"><thead><tr><th>family</th><th>exact match before</th><th>after</th><th>loss before</th><th>after</th></tr></thead><tbody>${rows}</tbody></table>`;
    return;
  }
  const one = before ?? after;
  if (!one) return void ($('eval-table').innerHTML = '');
  const rows = Object.entries({ ...one.families, overall: one.overall })
    .map(([f, m]) => `<tr><td>${escapeHtml(f)}</td><td>${pct(m.exactMatch)}</td><td>${m.loss.toFixed(3)}</td></tr>`)
    .join('');
  $('eval-table').innerHTML = `<p>${before ? 'base model' : 'adapter'} on ${one.overall.examples} held-out examples</p><table><thead><tr><th>family</th><th>exact match</th><th>loss</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function refreshButtons(): void {
  const ready = state.modelLoaded && state.dataLoaded && !state.training;
  button('load-default-data').disabled = !state.modelLoaded || state.training;
  $<HTMLInputElement>('data-file').disabled = !state.modelLoaded || state.training;
  button('load-default-model').disabled = state.training;
  $<HTMLInputElement>('model-folder').disabled = state.training;
  button('eval-before').disabled = !ready;
  button('train').disabled = !ready;
  button('stop').disabled = !state.training;
  button('new-run').disabled = state.training || !state.trained;
  button('eval-after').disabled = state.training || !state.trained;
  button('chat-send').disabled = !state.modelLoaded || state.training;
  button('chat-compare').disabled = state.training || !state.trained;
  button('download-adapter').disabled = state.training || !state.trained;
  button('download-report').disabled = state.training || !state.trained;
}

function onEvent(e: WorkerEvent): void {
  if (e.event === 'step') {
    state.records.push(e.record);
    state.total = e.total;
    $('progress').textContent = `step ${e.record.step}/${e.total} · loss ${e.record.loss.toFixed(4)} · lr ${e.record.lr.toExponential(2)} · ${e.tokensPerSecond.toFixed(e.tokensPerSecond < 10 ? 1 : 0)} tokens/s`;
    drawCharts();
  } else if (e.event === 'validation') {
    state.validation.push([e.step, e.loss]);
    drawCharts();
  } else if (e.event === 'checkpoint') {
    $('progress').dataset.checkpoint = String(e.step);
    setStatus(`checkpoint saved in this browser (Origin Private File System) at step ${e.step}`);
  } else if (e.event === 'model') {
    showModel(e.info);
  } else if (e.event === 'data') {
    showData(e.info);
  } else {
    setStatus(e.text);
  }
}

const client = new StudioClient(onEvent);

/** Runs a request with its button disabled and errors shown in the status line. */
async function guarded<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    setStatus(`${what}: ${(err as Error).message}`, true);
    return undefined;
  }
}

// ---- knobs ----

function writeKnobs(s: RunSettings): void {
  const form = $<HTMLFormElement>('knobs');
  for (const [k, v] of Object.entries(s)) {
    const input = form.elements.namedItem(k) as HTMLInputElement | HTMLSelectElement | null;
    if (!input) continue;
    if (input instanceof HTMLInputElement && input.type === 'checkbox') input.checked = Boolean(v);
    else input.value = String(v);
  }
  $('targets').innerHTML = ALL_TARGETS.map((t) => `<label><input type="checkbox" name="target" value="${t}"${s.targets.includes(t) ? ' checked' : ''} /> ${t}</label>`).join('');
}

function readKnobs(): RunSettings {
  const form = $<HTMLFormElement>('knobs');
  const num = (k: string): number => {
    const input = form.elements.namedItem(k) as HTMLInputElement;
    const v = Number(input.value);
    if (!Number.isFinite(v) || input.value.trim() === '') throw new Error(`knob "${k}" is ${JSON.stringify(input.value)}; enter a number`);
    return v;
  };
  const checked = (k: string): boolean => (form.elements.namedItem(k) as HTMLInputElement).checked;
  const targets = [...form.querySelectorAll<HTMLInputElement>('input[name=target]:checked')].map((i) => i.value);
  if (targets.length === 0) throw new Error('target modules: none chosen; tick at least one projection (q_proj, v_proj, ...)');
  return {
    r: num('r'),
    alpha: num('alpha'),
    targets,
    trainEmbeddings: checked('trainEmbeddings'),
    useDora: checked('useDora'),
    lr: num('lr'),
    schedule: (form.elements.namedItem('schedule') as HTMLSelectElement).value as RunSettings['schedule'],
    warmup: num('warmup'),
    steps: num('steps'),
    batch: num('batch'),
    maxLength: num('maxLength'),
    seed: num('seed'),
    evalEvery: num('evalEvery'),
    saveEvery: num('saveEvery'),
  };
}

async function showEstimate(): Promise<void> {
  if (!state.modelLoaded) return;
  try {
    const m = await client.call('estimate', readKnobs());
    const b = m.bytes;
    $('memory').textContent = `memory estimate per step: ${mib(b.total)} (weights ${mib(b.weights)}, gradients ${mib(b.gradients)}, AdamW ${mib(b.optimizer)}, activations ${mib(b.activations)}); trainable ${m.trainable.toLocaleString('en-US')} of ${m.total.toLocaleString('en-US')} parameters; ${m.budget.fits ? 'fits' : 'does NOT fit'} in ${m.budget.what}`;
    $('memory').classList.toggle('error', !m.budget.fits);
  } catch (err) {
    $('memory').textContent = (err as Error).message;
    $('memory').classList.add('error');
  }
}

// ---- model and data ----

function showModel(info: ModelInfo): void {
  $('model-info').textContent = `${info.name}: ${info.layers} layers, hidden ${info.hidden}, vocabulary ${info.vocab}, ${info.parameters.toLocaleString('en-US')} parameters, on ${info.backend}`;
}

function showData(info: DataInfo): void {
  $('data-info').textContent = `${info.name} (${info.format}): ${info.train} training records, ${info.heldOut} held out for validation and evaluation${info.dropped ? `, ${info.dropped} dropped by truncation` : ''}${info.skipped.length ? `\nskipped: ${info.skipped.join('\n')}` : ''}`;
  $('mask-preview').innerHTML = `<p class="info">loss-mask preview: <mark class="trained">green</mark> tokens take loss, grey ones are prompt</p>${info.previews.map((p) => `<div class="example">${p}</div>`).join('')}`;
}

async function loadModel(source: ModelSource, transfer: Transferable[] = []): Promise<void> {
  setStatus('loading the model …');
  const info = await guarded('model', () => client.call('loadModel', source, transfer));
  if (!info) return;
  state.modelLoaded = true;
  state.dataLoaded = false;
  showModel(info);
  $('data-info').textContent = '';
  $('mask-preview').innerHTML = '';
  setStatus('model loaded; now choose a data set');
  refreshButtons();
  await showEstimate();
}

async function modelFromFiles(files: File[]): Promise<void> {
  const wanted = files.filter((f) => /^(config\.json|generation_config\.json|tokenizer(_config)?\.json|.*\.safetensors|model\.safetensors\.index\.json)$/.test(f.name));
  if (!wanted.some((f) => f.name === 'config.json')) return setStatus(`model: no config.json among ${files.map((f) => f.name).join(', ') || 'the dropped files'}; pick the Hugging Face model folder`, true);
  const read = await Promise.all(wanted.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
  await loadModel({ kind: 'files', files: read }, read.map((f) => f.bytes));
}

async function loadData(source: { kind: 'default' } | { kind: 'file'; name: string; text: string }): Promise<void> {
  setStatus('reading the data set …');
  const info = await guarded('data', () => client.call('loadData', source));
  if (!info) return;
  state.dataLoaded = true;
  showData(info);
  setStatus('data loaded; set the knobs and train');
  refreshButtons();
}

function wireDrop(kind: 'model' | 'data', onFiles: (files: File[]) => void): void {
  const zone = document.querySelector<HTMLElement>(`[data-drop=${kind}]`)!;
  zone.addEventListener('dragover', (e) => (e.preventDefault(), zone.classList.add('over')));
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    onFiles([...(e.dataTransfer?.files ?? [])]);
  });
}

// ---- training ----

function applyView(v: RunView): void {
  state.records = [...v.records];
  state.validation = [...v.validation];
  state.total = v.settings.steps;
  state.before = v.before;
  state.after = v.after;
  state.trained = v.records.length > 0;
  writeKnobs(v.settings);
  drawCharts();
  drawEval();
}

async function runTraining(start: () => Promise<RunView>): Promise<void> {
  state.training = true;
  refreshButtons();
  const view = await guarded('train', start);
  state.training = false;
  if (view) {
    applyView(view);
    const last = view.records.at(-1);
    setStatus(view.status === 'done' ? `done: ${last?.step ?? 0} steps, final loss ${last?.loss.toFixed(4) ?? '-'}; evaluate the adapter, chat with it or download it` : `stopped at step ${last?.step ?? 0}; the checkpoint is kept`);
  }
  refreshButtons();
}

async function train(): Promise<void> {
  let settings: RunSettings;
  try {
    settings = readKnobs();
  } catch (err) {
    return setStatus((err as Error).message, true);
  }
  state.records = [];
  state.validation = [];
  state.after = null;
  delete $('progress').dataset.checkpoint;
  $('banner').hidden = true;
  drawCharts();
  setStatus('training …');
  await runTraining(() => client.call('train', settings));
}

async function evaluatePhase(phase: 'before' | 'after'): Promise<void> {
  setStatus(`evaluating ${phase === 'before' ? 'the base model' : 'the adapter'} on the held-out examples …`);
  const e = await guarded('evaluate', () => client.call('evaluate', { phase, maxLength: readKnobs().maxLength }));
  if (!e) return;
  state[phase] = e;
  drawEval();
  setStatus(`${phase === 'before' ? 'base model' : 'adapter'}: exact match ${(e.overall.exactMatch * 100).toFixed(1)}%, loss ${e.overall.loss.toFixed(3)}`);
}

// ---- chat and downloads ----

async function chat(withAdapter: boolean): Promise<void> {
  const prompt = $<HTMLInputElement>('chat-input').value.trim();
  if (!prompt) return;
  const r = await guarded('chat', () => client.call('chat', { prompt, adapter: withAdapter && state.trained, maxNewTokens: 32 }));
  if (!r) return;
  const who = state.trained ? (withAdapter ? 'with adapter' : 'base model') : 'base model';
  $('chat-log').insertAdjacentHTML('beforeend', `<div class="turn ${withAdapter && state.trained ? 'adapter' : 'base'}" data-adapter="${withAdapter && state.trained}"><p><span class="who">you</span>${escapeHtml(prompt)}</p><p><span class="who">${who}</span><span class="reply">${escapeHtml(r.reply)}</span></p></div>`);
}

function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.textContent = name;
  $('download-links').append(a, ' ');
  a.click();
}

async function downloadAdapter(): Promise<void> {
  const files = await guarded('download', () => client.call('exportAdapter', null));
  if (!files) return;
  $('download-links').textContent = 'PEFT adapter (load with PeftModel.from_pretrained): ';
  download('adapter_config.json', files.config, 'application/json');
  download('adapter_model.safetensors', files.weights, 'application/octet-stream');
}

async function downloadReport(): Promise<void> {
  const r = await guarded('report', () => client.call('report', null));
  if (r) download('report.html', r.html, 'text/html');
}

// ---- start ----

async function start(): Promise<void> {
  writeKnobs(DEFAULT_SETTINGS);
  drawCharts();
  refreshButtons();
  const choice = $<HTMLSelectElement>('backend-choice');
  choice.value = localStorage.getItem(CHOICE_KEY) ?? 'auto';
  choice.addEventListener('change', () => {
    localStorage.setItem(CHOICE_KEY, choice.value);
    location.reload();
  });
  button('load-default-model').addEventListener('click', () => void loadModel({ kind: 'default' }));
  $<HTMLInputElement>('model-folder').addEventListener('change', (e) => void modelFromFiles([...((e.target as HTMLInputElement).files ?? [])]));
  wireDrop('model', (files) => void modelFromFiles(files));
  button('load-default-data').addEventListener('click', () => void loadData({ kind: 'default' }));
  const dataFromFile = async (f: File | undefined): Promise<void> => {
    if (!f) return;
    if (!state.modelLoaded) return setStatus('data: load a model first (the data set is tokenised with its tokenizer)', true);
    await loadData({ kind: 'file', name: f.name, text: await f.text() });
  };
  $<HTMLInputElement>('data-file').addEventListener('change', (e) => void dataFromFile((e.target as HTMLInputElement).files?.[0]));
  wireDrop('data', (files) => void dataFromFile(files[0]));
  $('knobs').addEventListener('change', () => void showEstimate());
  button('eval-before').addEventListener('click', async () => {
    state.training = true;
    refreshButtons();
    await evaluatePhase('before');
    state.training = false;
    refreshButtons();
  });
  button('train').addEventListener('click', () => void train());
  button('stop').addEventListener('click', () => void client.call('stop', null));
  button('new-run').addEventListener('click', async () => {
    // A failed reset (the OPFS refused the delete) shows in the status line; the page starts afresh anyway.
    await guarded('new run', () => client.call('reset', null));
    state.records = [];
    state.validation = [];
    state.after = null;
    state.trained = false;
    drawCharts();
    drawEval();
    refreshButtons();
  });
  button('eval-after').addEventListener('click', () => void evaluatePhase('after'));
  button('chat-send').addEventListener('click', () => void chat($<HTMLInputElement>('chat-adapter').checked));
  button('chat-compare').addEventListener('click', async () => {
    await chat(false);
    await chat(true);
  });
  button('download-adapter').addEventListener('click', () => void downloadAdapter());
  button('download-report').addEventListener('click', () => void downloadReport());

  const init = await guarded('start', () => client.call('init', { backend: choice.value as BackendChoice }));
  if (!init) return;
  const badge = $('backend');
  badge.textContent = init.backend;
  badge.classList.toggle('cpu', init.backend.startsWith('cpu'));
  if (init.resumable) {
    const r = init.resumable;
    $('banner').hidden = false;
    $('banner').textContent = `Resuming the run from this browser's checkpoint at step ${r.checkpointStep} of ${r.settings.steps}.`;
    applyView(r);
    state.modelLoaded = state.dataLoaded = true;
    $('model-info').textContent = 'the saved run’s model (loading …)';
    setStatus(`resuming from the checkpoint at step ${r.checkpointStep} …`);
    await runTraining(() => client.call('resume', null));
    $('banner').textContent = `Resumed this browser's run from its checkpoint at step ${r.checkpointStep}.`;
  } else {
    setStatus('load a model to begin');
  }
}

// The service worker caches the build, so the studio loads and trains with no network (not under `vite dev`, which has import.meta.hot).
if (!import.meta.hot && 'serviceWorker' in navigator) void navigator.serviceWorker.register('./sw.js').catch((err: Error) => console.warn(`offline cache unavailable: ${err.message}`));

void start();
