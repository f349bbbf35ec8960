// The gpujs peer of bench-train-step: the same GPT-2 step as the `tessera` row, on @tessera/kernels-gpujs
// (gpu.js WebGPU mode through the `webgpu` package's Dawn, or its cpu mode). In its own module because
// train-step.ts runs its benchmark when imported; train-step.ts dispatches `--peers=gpujs-webgpu` /
// `gpujs-cpu` here. The loss is read back asynchronously (gpu.js has no synchronous readback on WebGPU),
// so the clock stops when the step's work is done.
import { createRequire } from 'node:module';
import { createGpuJsBackend, provideNavigatorGpu } from '@tessera/kernels-gpujs';
import { GPT2LMHeadModel, parseGPT2Config } from '@tessera/models';
import { AdamW } from '@tessera/optim';
import { Generator, registerBackend, setBackend, tensor } from '@tessera/tensor';
import { languageModelStepAsync, type BenchRow } from './language-model-step.js';

const require = createRequire(import.meta.url);
/** gpu.js is kernels-gpujs's dependency, not this package's: resolve it from there. */
const requireFromGpuJs = createRequire(require.resolve('@tessera/kernels-gpujs'));

/** The model and batch sizes of a bench-train-step run. */
export interface GpuJsStepShape {
  readonly vocab: number;
  readonly dim: number;
  readonly layers: number;
  readonly heads: number;
  readonly batch: number;
  readonly seq: number;
}

type TimeSteps = (step: () => Promise<number>) => Promise<{ ms: number; cpuMs: number; first: number; last: number }>;

/** Times the GPT-2 training step on the gpujs backend in `mode`; a mode that cannot start gives a skipped row. */
export async function gpujsRow(peer: 'gpujs-webgpu' | 'gpujs-cpu', s: GpuJsStepShape, ids: Int32Array, timeSteps: TimeSteps): Promise<BenchRow> {
  const mode = peer === 'gpujs-webgpu' ? 'webgpu' : 'cpu';
  const version = `${(require('@tessera/kernels-gpujs/package.json') as { version: string }).version} (gpu.js ${(requireFromGpuJs('gpu.js/package.json') as { version: string }).version})`;
  let backend;
  try {
    if (mode === 'webgpu') await provideNavigatorGpu();
    backend = await createGpuJsBackend({ mode, name: peer });
  } catch (err) {
    return { peer, version, threads: '-', notes: '', skipped: `gpu.js ${mode} mode did not start: ${(err as Error).message}` };
  }
  registerBackend(backend);
  setBackend(peer);
  const config = parseGPT2Config({ model_type: 'gpt2', vocab_size: s.vocab, n_embd: s.dim, n_layer: s.layers, n_head: s.heads, n_positions: s.seq });
  const model = new GPT2LMHeadModel(config, { generator: new Generator(0) });
  const opt = new AdamW(model.namedParameters(), { lr: 1e-3, weightDecay: 0.01 });
  const input = tensor(ids, { shape: [s.batch, s.seq], dtype: 'i32' });
  const r = await timeSteps(languageModelStepAsync(model, opt, input));
  const parameters = model.numParameters();
  model.dispose();
  input.dispose();
  const adapter = mode === 'webgpu' ? 'Dawn on the first adapter navigator.gpu offers (lavapipe on a machine without a GPU)' : 'JavaScript loops gpu.js generates';
  return {
    peer,
    version,
    threads: mode === 'cpu' ? 1 : 'gpu',
    parameters,
    medianStepMs: r.ms,
    medianStepCpuMs: r.cpuMs,
    tokensPerSec: (s.batch * s.seq * 1000) / r.ms,
    firstLoss: r.first,
    lastLoss: r.last,
    notes: `@tessera/models GPT2LMHeadModel, @tessera/optim AdamW, createGpuJsBackend({ mode: '${mode}' }): every primitive a generated gpu.js kernel (${adapter}); composites decomposed`,
  };
}
