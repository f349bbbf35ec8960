// The studio's training worker: it owns the model, the data and the run, so the page never freezes
// while a step computes. It composes the same pieces as apps/trainer (trainLoop, evaluate,
// checkpoint files, the HTML report); what is its own is the browser side: fetching the built-in
// model, reading dropped files, and keeping checkpoints in the Origin Private File System.
import { ChatExampleTokenizer, detectFormat, readDataset, toMessages, type TokenizedExample } from '@tessera/datasets';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { estimateMemory, generate, loadModelFromFiles, type LoadedModel } from '@tessera/models';
import { AdamW } from '@tessera/optim';
import { PeftModel, adapterFiles } from '@tessera/peft';
import { Generator, registerBackend, setBackend } from '@tessera/tensor';
import { checkpointFiles, restoreCheckpointFiles, type CheckpointState } from '@tessera/trainer/checkpoint-files';
import { evaluate, type EvalExample, type Evaluation } from '@tessera/trainer/evaluate';
import { htmlReport } from '@tessera/trainer/html-report';
import { instructionTasks } from '@tessera/trainer/instruction-tasks';
import { renderLossMask } from '@tessera/datasets';
import { trainLoop, validationLoss, type LoopCursor, type StepRecord } from '@tessera/trainer/train-loop';
import { fetchDefaultModel } from './default-model.js';
import { clearStoredRun, readRunFile, readStoredRun, removeRunEntry, staleCheckpointDirs, writeRunFile, writeStoredRun, type StoredRun } from './run-store.js';
import type { BackendChoice, DataInfo, DataSource, MemoryInfo, ModelInfo, ModelSource, RunSettings, RunView, StudioRequests, WorkerEvent, WorkerReply, WorkerRequest } from './studio-protocol.js';

/** The worker scope's two members used here (the DOM lib types `self` as a Window). */
const scope = self as unknown as { postMessage(m: unknown, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null };

// Built-in data: examples per task family (5 families) for training and for the held-out evaluation.
const DEFAULT_TRAIN_PER_FAMILY = 80;
const DEFAULT_TEST_PER_FAMILY = 4;
// Greedy answer budget: the built-in answers run to ~30 tokens; decoding stops earlier at the end-of-turn token.
const ANSWER_TOKENS = 32;
const PREVIEWS = 4;

let backendLine = '';
let loaded: (LoadedModel & { name: string }) | null = null;
let modelSource: ModelSource | null = null;
let dataSource: DataSource | null = null;
let records: unknown[] = [];
let evalExamples: EvalExample[] = [];
let peft: PeftModel | null = null;
let run: StoredRun | null = null;
let stopRequested = false;
/** The base model's evaluation, kept for the next run's before/after table. */
let baseEvaluation: { maxLength: number; evaluation: Evaluation } | null = null;

function emit(e: WorkerEvent): void {
  scope.postMessage(e);
}

/**
 * Registers the CPU backend and makes the chosen one the default. `auto`: WebGPU from navigator.gpu
 * when there is an adapter, else the CPU (gpu.js's WebGL is slower than the WASM kernels on software
 * rasterisers, so auto never picks it). `webgpu`: the user asked for a GPU, so without WebGPU the
 * studio falls back to gpu.js's WebGL rather than the CPU. `webgl`: gpu.js (WebGL2, else WebGL).
 */
async function initBackend(choice: BackendChoice): Promise<string> {
  registerBackend(createCpuBackend());
  backendLine = 'cpu (WebAssembly SIMD kernels)';
  if (choice === 'cpu') return backendLine;
  if (choice === 'webgl') {
    try {
      return await useGpuJs('');
    } catch (err) {
      throw new Error(`backend webgl (gpu.js): ${(err as Error).message}; choose "auto", "webgpu" or "cpu"`);
    }
  }
  const gpu = (navigator as Navigator & { gpu?: unknown }).gpu;
  try {
    if (!gpu) throw new Error('this browser exposes no navigator.gpu');
    const { createWebGpuBackend } = await import('@tessera/kernels-webgpu');
    const backend = await createWebGpuBackend();
    registerBackend(backend);
    setBackend(backend.name);
    backendLine = `webgpu (${backend.adapterName})`;
  } catch (err) {
    const why = (err as Error).message;
    if (choice === 'webgpu') {
      try {
        return await useGpuJs(`; WebGPU unavailable: ${why}`);
      } catch (glErr) {
        throw new Error(`backend webgpu: ${why}; the gpu.js WebGL fallback failed too: ${(glErr as Error).message}; choose "auto" or "cpu" to train on the CPU`);
      }
    }
    backendLine = `cpu (WebAssembly SIMD kernels; WebGPU unavailable: ${why})`;
  }
  return backendLine;
}

/** Makes gpu.js (WebGL2, else WebGL; in this worker on an OffscreenCanvas) the default backend; `note` follows the mode on the badge. */
async function useGpuJs(note: string): Promise<string> {
  const { createGpuJsBackend } = await import('@tessera/kernels-gpujs');
  const backend = await createGpuJsBackend({ mode: 'gpu' });
  registerBackend(backend);
  setBackend(backend.name);
  backendLine = `gpujs (${backend.mode} through gpu.js${note})`;
  return backendLine;
}

/** Loads a model from its source onto the current backend: the built-in one, or a dropped Hugging Face folder's files. */
async function loadFromSource(source: ModelSource): Promise<LoadedModel & { name: string }> {
  const files = source.kind === 'default' ? await fetchDefaultModel() : source.files;
  const byName = new Map(files.map((f) => [f.name, f.bytes]));
  const text = (name: string): string | null => (byName.has(name) ? new TextDecoder().decode(byName.get(name)) : null);
  const config = text('config.json');
  if (!config) throw new Error(`model: no config.json among the ${files.length} files (${files.map((f) => f.name).join(', ')}); pick the whole Hugging Face model folder`);
  const weights = new Map(files.filter((f) => f.name.endsWith('.safetensors')).map((f) => [f.name, f.bytes] as [string, ArrayBuffer]));
  if (weights.size === 0) throw new Error('model: no .safetensors file in the folder; the studio reads safetensors weights (convert .bin checkpoints with transformers first)');
  const tokenizerJson = text('tokenizer.json');
  if (!tokenizerJson) throw new Error('model: no tokenizer.json in the folder; a model needs one to tokenise the data');
  const m = await loadModelFromFiles({ config, weights, tokenizer: { json: tokenizerJson, config: text('tokenizer_config.json') }, generationConfig: text('generation_config.json') });
  return { ...m, name: source.kind === 'default' ? 'built-in default (apps/trainer/assets/default-model)' : (JSON.parse(config) as { _name_or_path?: string })._name_or_path || 'dropped folder' };
}

async function loadModelRequest(source: ModelSource): Promise<ModelInfo> {
  loaded = await loadFromSource(source);
  modelSource = source;
  peft = null;
  const c = loaded.config;
  return { name: loaded.name, backend: backendLine, layers: c.numHiddenLayers, hidden: c.hiddenSize, vocab: c.vocabSize, parameters: loaded.model.numParameters() };
}

function needModel(what: string): LoadedModel & { name: string } {
  if (!loaded?.tokenizer) throw new Error(`${what}: no model loaded; load the built-in model or drop a Hugging Face folder first`);
  return loaded;
}

/** Reads a data source's records; bad records are reported and skipped. */
async function readRecords(source: DataSource): Promise<{ records: unknown[]; heldOut: EvalExample[]; format: string; skipped: string[] }> {
  if (source.kind === 'default') {
    const d = instructionTasks(0, DEFAULT_TRAIN_PER_FAMILY, DEFAULT_TEST_PER_FAMILY);
    return { records: d.train.map((e) => ({ messages: e.messages })), heldOut: d.test, format: 'messages (built-in instruction tasks)', skipped: [] };
  }
  const all: unknown[] = [];
  const skipped: string[] = [];
  let format = '';
  let n = 0;
  for await (const r of readDataset({ text: source.text, name: source.name })) {
    n++;
    try {
      const f = detectFormat(r);
      format ||= f;
      all.push(r);
    } catch (err) {
      skipped.push(`${source.name} record ${n}: ${(err as Error).message}`);
    }
  }
  if (all.length === 0) throw new Error(`data ${source.name}: no usable records (${skipped.length} skipped); expected messages, ShareGPT, Alpaca or prompt/completion records`);
  // A fixed 5% (1 to 20) held out for evaluation and validation loss; the rest trains.
  const nHeld = Math.min(20, Math.max(1, Math.floor(all.length * 0.05)));
  const heldOut = all.slice(0, nHeld).map((r) => ({ family: 'held-out', messages: toMessages(r) }));
  return { records: all.slice(nHeld), heldOut, format, skipped };
}

function chatTokenizer(maxLength: number): ChatExampleTokenizer {
  return new ChatExampleTokenizer(needModel('data').tokenizer!, { maxLength, keepText: true });
}

async function loadDataRequest(source: DataSource, maxLength = 96): Promise<DataInfo> {
  const m = needModel('data');
  const r = await readRecords(source);
  dataSource = source;
  records = r.records;
  evalExamples = r.heldOut;
  const chat = chatTokenizer(maxLength);
  const previews = records
    .slice(0, PREVIEWS)
    .map((rec) => chat.tokenize(rec))
    .filter((t): t is TokenizedExample => t !== null)
    .map((t) => renderLossMask(m.tokenizer!, t, 'html'));
  return { name: source.kind === 'default' ? 'built-in instruction tasks' : source.name, format: r.format, train: records.length, validation: evalExamples.length, heldOut: evalExamples.length, skipped: r.skipped.slice(0, 20), dropped: chat.report.dropped, previews };
}

function estimateRequest(s: RunSettings): MemoryInfo {
  const m = needModel('estimate');
  const e = estimateMemory(m.config, { dtype: 'f32', lora: { r: s.r, targetModules: s.targets }, batch: s.batch, seq: s.maxLength, optimizer: 'adamw' });
  // Browsers do not tell how much GPU memory there is; navigator.deviceMemory (RAM in GiB, rounded
  // and capped at 8) is the one figure a page gets, and a WebGPU device on an integrated GPU shares it.
  const gib = (navigator as Navigator & { deviceMemory?: number }).deviceMemory ?? 4;
  const budget = gib * 2 ** 30;
  // With the embeddings trained, their gradients and AdamW moments come on top of the LoRA figures.
  const embed = s.trainEmbeddings ? m.config.vocabSize * m.config.hiddenSize : 0;
  const bytes = { ...e.bytes, gradients: e.bytes.gradients + 4 * embed, optimizer: e.bytes.optimizer + 8 * embed, total: e.bytes.total + 12 * embed };
  return { trainable: e.parameters.trainable + embed, total: e.parameters.total, bytes, budget: { bytes: budget, what: `navigator.deviceMemory ${gib} GiB`, fits: bytes.total <= budget } };
}

function tokenized(maxLength: number): { train: TokenizedExample[]; val: TokenizedExample[] } {
  const chat = chatTokenizer(maxLength);
  const train = records.map((r) => chat.tokenize(r)).filter((t): t is TokenizedExample => t !== null);
  const val = evalExamples.map((e) => chat.tokenize(e.messages)).filter((t): t is TokenizedExample => t !== null);
  if (train.length === 0) throw new Error(`train: no example has answer tokens within maxLength ${maxLength}; raise maxLength`);
  return { train, val };
}

async function evaluateRequest(phase: 'before' | 'after', maxLength: number): Promise<Evaluation> {
  const m = needModel('evaluate');
  if (evalExamples.length === 0) throw new Error('evaluate: no held-out examples; load a data set first');
  const chat = chatTokenizer(maxLength);
  const e = phase === 'before' && peft ? await withoutAdapter(() => evaluate(m.model, m.tokenizer!, chat, evalExamples, { maxNewTokens: ANSWER_TOKENS })) : await evaluate(m.model, m.tokenizer!, chat, evalExamples, { maxNewTokens: ANSWER_TOKENS });
  if (phase === 'before') baseEvaluation = { maxLength, evaluation: e };
  if (run) {
    run[phase] = e;
    await writeStoredRun(run);
  }
  return e;
}

/**
 * Runs `fn` on the base model: LoRA layers off and saved modules (embeddings) at their loaded values,
 * PEFT's disable_adapter(). PeftModel.withAdaptersDisabled takes a synchronous function (it would turn
 * the adapter back on when `fn`'s promise is returned, not settled), so its two halves are awaited around `fn`.
 */
async function withoutAdapter<T>(fn: () => Promise<T>): Promise<T> {
  if (!peft) return fn();
  const p = peft;
  p.disableAdapterLayers();
  try {
    return await fn();
  } finally {
    p.enableAdapterLayers();
  }
}

/** Stores dropped model files and data text in the OPFS, so a reload can rebuild the run without asking again. */
async function storeSources(): Promise<Pick<StoredRun, 'model' | 'data'>> {
  let model: StoredRun['model'] = { kind: 'default' };
  if (modelSource?.kind === 'files') {
    for (const f of modelSource.files) await writeRunFile(`model/${f.name}`, new Uint8Array(f.bytes));
    model = { kind: 'files', names: modelSource.files.map((f) => f.name) };
  }
  let data: StoredRun['data'] = { kind: 'default' };
  if (dataSource?.kind === 'file') {
    await writeRunFile(`data/${dataSource.name}`, dataSource.text);
    data = { kind: 'file', name: dataSource.name };
  }
  return { model, data };
}

function attachAdapter(s: RunSettings): { optimizer: AdamW } {
  const m = needModel('train');
  const modulesToSave = s.trainEmbeddings ? ['embed_tokens'] : [];
  peft = new PeftModel(m.model, { r: s.r, loraAlpha: s.alpha, loraDropout: 0, targetModules: s.targets, useDora: s.useDora, modulesToSave, ensureWeightTying: true }, 'default', { generator: new Generator(s.seed) });
  return { optimizer: new AdamW(m.model.trainableParameters(), { lr: s.lr, weightDecay: 0 }) };
}

async function saveCheckpoint(optimizer: AdamW, at: LoopCursor): Promise<void> {
  if (!run || !peft) return;
  const dir = `ckpt-${at.step}`;
  const state: CheckpointState = { cursor: at, records: run.records };
  for (const [name, bytes] of await checkpointFiles(peft, optimizer, state)) await writeRunFile(`${dir}/${name}`, bytes);
  // run.json names the folder only once all its files are written.
  run.checkpointDir = dir;
  run.checkpointStep = at.step;
  await writeStoredRun(run);
  for (const stale of await staleCheckpointDirs(dir)) await removeRunEntry(stale);
  emit({ event: 'checkpoint', step: at.step });
}

/** Trains from `cursor` (a fresh run or a restored checkpoint) to the run's last step, checkpointing on the way. */
async function trainFrom(optimizer: AdamW, cursor: LoopCursor | undefined): Promise<RunView> {
  const m = needModel('train');
  const s = run!.settings;
  const { train, val } = tokenized(s.maxLength);
  stopRequested = false;
  run!.status = 'training';
  await writeStoredRun(run!);
  let tokensPerSecond = 0;
  const result = await trainLoop(
    m.model,
    train,
    m.config.padTokenId ?? 0,
    { lr: s.lr, schedule: s.schedule, warmupSteps: s.warmup, steps: s.steps, batchSize: s.batch, gradAccumulation: 1, maxGradNorm: 1, weightDecay: 0, seed: s.seed },
    {
      optimizer,
      cursor,
      shouldStop: () => stopRequested,
      progress: { update: (_step, _loss, _lr, tps) => void (tokensPerSecond = tps), stop: () => undefined },
      onStep: async (r: StepRecord, at: LoopCursor) => {
        run!.records.push(r);
        emit({ event: 'step', record: r, tokensPerSecond, total: s.steps });
        if (s.evalEvery > 0 && r.step % s.evalEvery === 0 && val.length) {
          const loss = await validationLoss(m.model, val, m.config.padTokenId ?? 0);
          run!.validation.push([r.step, loss]);
          emit({ event: 'validation', step: r.step, loss });
          m.model.train();
        }
        if (s.saveEvery > 0 && r.step % s.saveEvery === 0) await saveCheckpoint(optimizer, at);
        // A macrotask turn, so a "stop" message gets through even when the CPU backend's reads resolve at once.
        await new Promise((resolve) => setTimeout(resolve, 0));
      },
    },
  );
  if (result.cursor.step !== run!.checkpointStep) await saveCheckpoint(optimizer, result.cursor);
  run!.status = result.cursor.step >= s.steps ? 'done' : 'stopped';
  await writeStoredRun(run!);
  return viewOf(run!);
}

function viewOf(r: StoredRun): RunView {
  return { settings: r.settings, records: r.records, validation: r.validation, before: r.before, after: r.after, checkpointStep: r.checkpointStep, status: r.status };
}

async function trainRequest(s: RunSettings): Promise<RunView> {
  if (!dataSource || records.length === 0) throw new Error('train: no data set loaded; load the built-in tasks or drop a JSONL/JSON/CSV file');
  // A fresh base for every run: reload the model, so a second run does not stack adapters.
  await loadModelRequest(modelSource!);
  const before = baseEvaluation?.maxLength === s.maxLength ? baseEvaluation.evaluation : null;
  await clearStoredRun();
  run = { settings: s, records: [], validation: [], before, after: null, checkpointStep: 0, status: 'training', checkpointDir: null, ...(await storeSources()) };
  const { optimizer } = attachAdapter(s);
  return trainFrom(optimizer, undefined);
}

/** The stored run if it can be continued: one that was training (or stopped) with a complete checkpoint. */
async function resumableRun(): Promise<StoredRun | null> {
  const r = await readStoredRun();
  console.info(`studio: stored run ${r ? `${r.status}, checkpoint ${r.checkpointDir}` : 'none'}`);
  return r && r.checkpointDir && r.status !== 'done' && r.status !== 'idle' ? r : null;
}

async function resumeRequest(): Promise<RunView> {
  const stored = await resumableRun();
  if (!stored) throw new Error('resume: no unfinished run with a checkpoint in this browser');
  const files: ModelSource = stored.model.kind === 'default' ? { kind: 'default' } : { kind: 'files', files: await Promise.all(stored.model.names.map(async (name) => ({ name, bytes: (await readRunFile(`model/${name}`)).slice().buffer }))) };
  emit({ event: 'model', info: await loadModelRequest(files) });
  const data: DataSource = stored.data.kind === 'default' ? { kind: 'default' } : { kind: 'file', name: stored.data.name, text: new TextDecoder().decode(await readRunFile(`data/${stored.data.name}`)) };
  emit({ event: 'data', info: await loadDataRequest(data, stored.settings.maxLength) });
  run = stored;
  const { optimizer } = attachAdapter(stored.settings);
  const state = await restoreCheckpointFiles(peft!, optimizer, (name) => readRunFile(`${stored.checkpointDir}/${name}`));
  // The curves up to the checkpoint; steps after it are trained again.
  run.records = state.records.filter((r) => r.step <= state.cursor.step);
  run.validation = run.validation.filter(([step]) => step <= state.cursor.step);
  emit({ event: 'status', text: `resumed from the checkpoint at step ${state.cursor.step}` });
  return trainFrom(optimizer, state.cursor);
}

async function chatRequest(q: StudioRequests['chat']['in']): Promise<StudioRequests['chat']['out']> {
  const m = needModel('chat');
  const tok = m.tokenizer!;
  const ids = tok.encode(tok.applyChatTemplate([{ role: 'user', content: q.prompt }], { addGenerationPrompt: true }).text, { addSpecialTokens: false }).ids;
  m.model.eval();
  const go = () => generate(m.model, [ids], { maxNewTokens: q.maxNewTokens, tokenizer: tok });
  const out = q.adapter || !peft ? await go() : await withoutAdapter(go);
  return { reply: out.text![0]!.trim(), tokens: out.tokens[0]!.length };
}

async function exportAdapterRequest(): Promise<StudioRequests['exportAdapter']['out']> {
  if (!peft) throw new Error('download: no adapter yet; train first');
  const files = await adapterFiles(peft);
  return { config: files.config, weights: files.weights.slice().buffer };
}

function reportRequest(): { html: string } {
  if (!run) throw new Error('report: no run yet; train first');
  const tokens = run.records.reduce((n, r) => n + r.tokens, 0);
  const seconds = run.records.at(-1)?.seconds ?? 0;
  const summary = { model: loaded?.name, data: dataSource?.kind === 'file' ? dataSource.name : 'built-in instruction tasks', backend: backendLine, config: run.settings, steps: run.records.at(-1)?.step ?? 0, status: run.status, tokensPerSecond: seconds > 0 ? tokens / seconds : null, finalLoss: run.records.at(-1)?.loss ?? null };
  return { html: htmlReport({ title: `Tessera Studio run: ${loaded?.name ?? 'model'}`, records: run.records, validation: run.validation, before: run.before ?? undefined, after: run.after ?? undefined, summary }) };
}

const HANDLERS: { [K in keyof StudioRequests]: (payload: StudioRequests[K]['in']) => Promise<StudioRequests[K]['out']> | StudioRequests[K]['out'] } = {
  init: async ({ backend }) => ({ backend: await initBackend(backend), resumable: await resumableRun().then((r) => (r ? viewOf(r) : null)) }),
  loadModel: loadModelRequest,
  loadData: (source) => loadDataRequest(source),
  estimate: estimateRequest,
  evaluate: ({ phase, maxLength }) => evaluateRequest(phase, maxLength),
  train: trainRequest,
  resume: resumeRequest,
  stop: () => {
    stopRequested = true;
    return null;
  },
  chat: chatRequest,
  exportAdapter: exportAdapterRequest,
  report: reportRequest,
  reset: async () => {
    await clearStoredRun();
    run = null;
    return null;
  },
};

// One request at a time (a chat must not run inside a training step); "stop" alone skips the queue.
let queue: Promise<unknown> = Promise.resolve();

scope.onmessage = (e) => {
  const req = e.data;
  const handle = async (): Promise<void> => {
    let reply: WorkerReply;
    try {
      const result = await (HANDLERS[req.type] as (p: unknown) => unknown)(req.payload);
      reply = { id: req.id, ok: true, result };
    } catch (err) {
      console.error(err);
      reply = { id: req.id, ok: false, error: (err as Error).message ?? String(err) };
    }
    const transfer = req.type === 'exportAdapter' && reply.ok ? [(reply.result as { weights: ArrayBuffer }).weights] : [];
    scope.postMessage(reply, transfer);
  };
  if (req.type === 'stop') void handle();
  else queue = queue.then(handle);
};
