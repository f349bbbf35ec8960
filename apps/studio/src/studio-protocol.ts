// The messages between the page (main.ts) and the training worker (studio-worker.ts). Requests carry
// an id and get one reply; events (steps, validation, checkpoints) flow from the worker unasked.
import type { Evaluation } from '@tessera/trainer/evaluate';
import type { StepRecord } from '@tessera/trainer/train-loop';

/** The LoRA and training knobs the page sets. */
export interface RunSettings {
  r: number;
  alpha: number;
  targets: string[];
  /**
   * Train the token embeddings too (PEFT modules_to_save). The default model's chat tokens never
   * occurred in pretraining, so their embeddings are noise a low-rank update cannot reach.
   */
  trainEmbeddings: boolean;
  useDora: boolean;
  lr: number;
  schedule: 'cosine' | 'linear' | 'constant';
  warmup: number;
  steps: number;
  batch: number;
  maxLength: number;
  seed: number;
  /** Validation loss every this many steps (0: never). */
  evalEvery: number;
  /** Checkpoint to the Origin Private File System every this many steps (0: only at the end). */
  saveEvery: number;
}

export const DEFAULT_SETTINGS: RunSettings = {
  r: 8,
  alpha: 16,
  targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  trainEmbeddings: true,
  useDora: false,
  lr: 2e-3,
  schedule: 'cosine',
  warmup: 5,
  steps: 60,
  batch: 8,
  maxLength: 96,
  seed: 0,
  evalEvery: 10,
  saveEvery: 5,
};

/** Where compute runs: chosen by the page, reported by the worker. */
export type BackendChoice = 'auto' | 'webgpu' | 'webgl' | 'cpu';

/** A model: the built-in default (fetched from the app's own assets) or the files of a Hugging Face folder. */
export type ModelSource = { kind: 'default' } | { kind: 'files'; files: Array<{ name: string; bytes: ArrayBuffer }> };

/** A data set: the built-in instruction tasks, or a dropped JSONL/JSON/CSV file's text. */
export type DataSource = { kind: 'default' } | { kind: 'file'; name: string; text: string };

/** What the page shows after a model loads. */
export interface ModelInfo {
  name: string;
  backend: string;
  layers: number;
  hidden: number;
  vocab: number;
  parameters: number;
}

/** What the page shows after a data set loads. */
export interface DataInfo {
  name: string;
  format: string;
  train: number;
  validation: number;
  heldOut: number;
  skipped: string[];
  dropped: number;
  /** Loss-mask previews (HTML: trained tokens in <mark>) of the first examples. */
  previews: string[];
}

/** Memory of one training step, from @tessera/models' estimateMemory. */
export interface MemoryInfo {
  trainable: number;
  total: number;
  bytes: { weights: number; gradients: number; optimizer: number; activations: number; total: number };
  /** What the device offers and whether the estimate fits it. */
  budget: { bytes: number; what: string; fits: boolean };
}

/** A run's state as the page draws it (also what a reload restores). */
export interface RunView {
  settings: RunSettings;
  records: StepRecord[];
  validation: Array<[number, number]>;
  /** Held-out evaluations of the base model and of the trained adapter. */
  before: Evaluation | null;
  after: Evaluation | null;
  checkpointStep: number;
  status: 'idle' | 'training' | 'stopped' | 'done';
}

/** Requests, by name: the payload the page sends and the result it gets. */
export interface StudioRequests {
  init: { in: { backend: BackendChoice }; out: { backend: string; resumable: RunView | null } };
  loadModel: { in: ModelSource; out: ModelInfo };
  loadData: { in: DataSource; out: DataInfo };
  estimate: { in: RunSettings; out: MemoryInfo };
  evaluate: { in: { phase: 'before' | 'after'; maxLength: number }; out: Evaluation };
  train: { in: RunSettings; out: RunView };
  resume: { in: null; out: RunView };
  stop: { in: null; out: null };
  chat: { in: { prompt: string; adapter: boolean; maxNewTokens: number }; out: { reply: string; tokens: number } };
  exportAdapter: { in: null; out: { config: string; weights: ArrayBuffer } };
  report: { in: null; out: { html: string } };
  reset: { in: null; out: null };
}

export type RequestName = keyof StudioRequests;

export type WorkerRequest = { [K in RequestName]: { id: number; type: K; payload: StudioRequests[K]['in'] } }[RequestName];

/** Events the worker sends while it works. */
export type WorkerEvent =
  | { event: 'step'; record: StepRecord; tokensPerSecond: number; total: number }
  | { event: 'validation'; step: number; loss: number }
  | { event: 'checkpoint'; step: number }
  | { event: 'status'; text: string }
  /** A resumed run reloaded its model and data: what the page shows for them. */
  | { event: 'model'; info: ModelInfo }
  | { event: 'data'; info: DataInfo };

export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
