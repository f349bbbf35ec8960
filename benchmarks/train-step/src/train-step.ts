/**
 * One training step (forward, backward, AdamW) of a small GPT (GPT-2 architecture, tied head) on
 * the CPU, in tokens/s: Tessera side by side, in one run, with PyTorch (through /usr/bin/python3)
 * and tfjs (cpu, and tfjs-backend-wasm).
 *
 *   pnpm bench:train-step             vocab 4096, dim 256, 4 layers, 4 heads, batch 8 x 128 (~4.3M parameters)
 *   pnpm bench:train-step --quick     vocab 1024, dim 128, 2 layers, 4 heads, batch 4 x 64
 *   options: --steps=3 --warmup=1 --peers=tessera,torch,tfjs-cpu,tfjs-wasm --out=file.json
 *
 * Every peer builds the same model (GPT-2: learned positions, pre-norm LayerNorm blocks, fused
 * QKV, GELU (tanh), tied output head; no dropout) with its own random init, and times `steps`
 * steps after `warmup` untimed ones on one fixed random batch. A step is forward + loss + backward +
 * optimizer update, with the loss read back (so lazy backends finish). Figure: median step time,
 * tokens/s = batch·seq / that. tfjs has no AdamW: it runs tf.train.adam (no weight decay), the same
 * per-element work up to one multiply-add. Results go to results/latest.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cpuGemmVariant, createCpuBackend } from '@tessera/kernels-cpu';
import { GPT2LMHeadModel, loadModel, parseGPT2Config } from '@tessera/models';
import { AdamW } from '@tessera/optim';
import { PeftModel } from '@tessera/peft';
import { Generator, registerBackend, setBackend, tensor } from '@tessera/tensor';
import { languageModelStep, type BenchRow } from './language-model-step.js';
import { gpujsRow } from './gpujs-peer.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

interface Shape {
  vocab: number;
  dim: number;
  layers: number;
  heads: number;
  batch: number;
  seq: number;
}

const FULL: Shape = { vocab: 4096, dim: 256, layers: 4, heads: 4, batch: 8, seq: 128 };
const QUICK: Shape = { vocab: 1024, dim: 128, layers: 2, heads: 4, batch: 4, seq: 64 };

interface Options {
  shape: Shape;
  quick: boolean;
  steps: number;
  warmup: number;
  peers: string[];
  out: string;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { shape: FULL, quick: false, steps: 3, warmup: 1, peers: ['tessera', 'torch', 'tfjs-cpu', 'tfjs-wasm'], out: join(here, '..', 'results', 'latest.json') };
  for (const arg of argv) {
    const [key, value = ''] = arg.replace(/^--/, '').split('=', 2) as [string, string?];
    const int = (): number => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new Error(`bench-train-step: --${key} needs a non-negative integer (got "${value}")`);
      return n;
    };
    if (key === 'quick') (o.quick = true), (o.shape = QUICK);
    else if (key === 'steps') o.steps = Math.max(1, int());
    else if (key === 'warmup') o.warmup = int();
    else if (key === 'peers') o.peers = value.split(',').filter(Boolean);
    else if (key === 'out') o.out = resolve(value);
    else if (arg !== '--') throw new Error(`bench-train-step: unknown option "${arg}"; options: --quick --steps=N --warmup=N --peers=a,b --out=file.json`);
  }
  return o;
}

/** A fixed batch of random token ids (B·T) from a small LCG, shared by every peer. */
function batchIds(s: Shape): Int32Array {
  const ids = new Int32Array(s.batch * s.seq);
  let x = 12345;
  for (let i = 0; i < ids.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    ids[i] = (x >>> 8) % s.vocab;
  }
  return ids;
}

type Row = BenchRow;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Times warmup + steps calls of `step` (which returns the loss). */
async function timeSteps(o: Options, step: () => Promise<number> | number): Promise<{ ms: number; cpuMs: number; first: number; last: number }> {
  const times: number[] = [];
  const cpuTimes: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i < o.warmup + o.steps; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    losses.push(await step());
    const c = process.cpuUsage(c0);
    if (i >= o.warmup) {
      times.push(performance.now() - t0);
      cpuTimes.push((c.user + c.system) / 1000);
    }
  }
  return { ms: median(times), cpuMs: median(cpuTimes), first: losses[0]!, last: losses[losses.length - 1]! };
}

function pkgVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------- Tessera
async function tesseraRow(o: Options, ids: Int32Array): Promise<Row> {
  const s = o.shape;
  const threads = cpus().length;
  const gemmBuild = cpuGemmVariant(registerBackend(createCpuBackend({ name: 'bench-cpu', threads })));
  setBackend('bench-cpu');
  const config = parseGPT2Config({ model_type: 'gpt2', vocab_size: s.vocab, n_embd: s.dim, n_layer: s.layers, n_head: s.heads, n_positions: s.seq });
  const model = new GPT2LMHeadModel(config, { generator: new Generator(0) });
  const opt = new AdamW(model.namedParameters(), { lr: 1e-3, weightDecay: 0.01 });
  const input = tensor(ids, { shape: [s.batch, s.seq], dtype: 'i32' });
  const r = await timeSteps(o, languageModelStep(model, opt, input));
  const parameters = model.numParameters();
  model.dispose();
  input.dispose();
  return {
    peer: 'tessera',
    version: pkgVersion('@tessera/kernels-cpu'),
    threads,
    parameters,
    medianStepMs: r.ms,
    medianStepCpuMs: r.cpuMs,
    tokensPerSec: (s.batch * s.seq * 1000) / r.ms,
    firstLoss: r.first,
    lastLoss: r.last,
    notes: `@tessera/models GPT2LMHeadModel, @tessera/optim AdamW, createCpuBackend({ threads: ${threads} }) (WebAssembly SIMD matmul, '${gemmBuild}' build, and large f32 add/sub/mul/div, per-op TypeScript loops, fused softmax/layerNorm/cross-entropy/attention and AdamW)`,
  };
}

// ---------------------------------------------------------------- Tessera, LoRA on the default model
/** The trainer's built-in default model (a small pretrained Llama), fine-tuned through LoRA adapters. */
const DEFAULT_MODEL = join(here, '..', '..', '..', 'apps', 'trainer', 'assets', 'default-model');

async function tesseraLoraRow(o: Options): Promise<Row> {
  const threads = cpus().length;
  const gemmBuild = cpuGemmVariant(registerBackend(createCpuBackend({ name: 'bench-cpu-lora', threads })));
  setBackend('bench-cpu-lora');
  const { model, config } = await loadModel(DEFAULT_MODEL);
  const targets = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  const peft = new PeftModel(model, { r: 8, loraAlpha: 16, loraDropout: 0, targetModules: targets }, 'default', { generator: new Generator(0) });
  const opt = new AdamW(model.trainableParameters(), { lr: 1e-3, weightDecay: 0.01 });
  // The model's context (max_position_embeddings) bounds the sequence; the batch is the GPT row's.
  const batch = o.quick ? 4 : 8;
  const seq = Math.min(o.quick ? 64 : 128, config.maxPositionEmbeddings);
  const ids = batchIds({ ...o.shape, vocab: config.vocabSize, batch, seq });
  const input = tensor(ids, { shape: [batch, seq], dtype: 'i32' });
  model.train();
  const r = await timeSteps(o, languageModelStep(model, opt, input));
  const counts = peft.trainableParameters();
  model.dispose();
  input.dispose();
  return {
    peer: 'tessera-lora',
    version: pkgVersion('@tessera/kernels-cpu'),
    threads,
    parameters: counts.trainable,
    medianStepMs: r.ms,
    medianStepCpuMs: r.cpuMs,
    tokensPerSec: (batch * seq * 1000) / r.ms,
    firstLoss: r.first,
    lastLoss: r.last,
    notes:
      `LoRA fine-tuning step of apps/trainer/assets/default-model (Llama, vocab ${config.vocabSize}, dim ${config.hiddenSize}, ${config.numHiddenLayers} layers, ` +
      `${counts.total} parameters, ${counts.trainable} trainable: r 8, alpha 16 on ${targets.join('/')}), batch ${batch} x ${seq}, AdamW on the adapters; createCpuBackend({ threads: ${threads} }), '${gemmBuild}' gemm build`,
  };
}

// ---------------------------------------------------------------- PyTorch
const TORCH_SCRIPT = String.raw`
import json, math, sys, time
try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except Exception as e:
    print(json.dumps({"error": "no torch: %s" % e})); sys.exit(0)
a = json.loads(sys.argv[1])
V, C, L, H, B, T = a["vocab"], a["dim"], a["layers"], a["heads"], a["batch"], a["seq"]
torch.manual_seed(0)
class Block(nn.Module):
    def __init__(s):
        super().__init__(); s.ln_1 = nn.LayerNorm(C); s.c_attn = nn.Linear(C, 3 * C); s.c_proj = nn.Linear(C, C)
        s.ln_2 = nn.LayerNorm(C); s.c_fc = nn.Linear(C, 4 * C); s.mlp_proj = nn.Linear(4 * C, C)
    def forward(s, x):
        q, k, v = s.c_attn(s.ln_1(x)).split(C, 2)
        q, k, v = (z.view(B, T, H, C // H).transpose(1, 2) for z in (q, k, v))
        # torch 1.13 has no F.scaled_dot_product_attention: the eager softmax attention.
        w = (q @ k.transpose(-1, -2)) / math.sqrt(C // H)
        w = w.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
        y = (F.softmax(w, -1) @ v).transpose(1, 2).reshape(B, T, C)
        x = x + s.c_proj(y)
        return x + s.mlp_proj(F.gelu(s.c_fc(s.ln_2(x)), approximate="tanh"))
class GPT(nn.Module):
    def __init__(s):
        super().__init__(); s.wte = nn.Embedding(V, C); s.wpe = nn.Embedding(T, C)
        s.h = nn.ModuleList([Block() for _ in range(L)]); s.ln_f = nn.LayerNorm(C)
    def forward(s, ids):
        x = s.wte(ids) + s.wpe(torch.arange(T))
        for b in s.h: x = b(x)
        logits = s.ln_f(x) @ s.wte.weight.t()
        return F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))
torch.set_num_threads(a["threads"])
m = GPT()
with torch.no_grad():  # GPT-2's init, as the other peers use (N(0, 1) embeddings tied to the head give huge logits)
    for n, p in m.named_parameters():
        if n.endswith("bias"): p.zero_()
        elif p.dim() == 2: p.normal_(0, 0.02)
ids = torch.tensor(a["ids"], dtype=torch.long).view(B, T)
opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.01)
times, cpu, losses = [], [], []
for i in range(a["warmup"] + a["steps"]):
    t0 = time.perf_counter(); c0 = time.process_time()
    opt.zero_grad(); loss = m(ids); loss.backward(); opt.step(); losses.append(loss.item())
    if i >= a["warmup"]: times.append((time.perf_counter() - t0) * 1000); cpu.append((time.process_time() - c0) * 1000)
times.sort(); cpu.sort()
# Which BLAS the step ran on: Debian's torch uses whichever libblas.so.3 is selected, and the reference
# BLAS (installed when libopenblas0 is not) is ~20x slower than OpenBLAS.
blas = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.split()[-1].lower()})
print(json.dumps({"ms": times[len(times) // 2], "cpuMs": cpu[len(cpu) // 2], "first": losses[0], "last": losses[-1], "torch": torch.__version__,
  "threads": torch.get_num_threads(), "parameters": sum(p.numel() for p in m.parameters()), "blas": blas}))
`;

function torchRow(o: Options, ids: Int32Array): Row {
  const python = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';
  const base = { peer: 'torch', notes: `PyTorch eager through ${python}, softmax attention, torch.optim.AdamW` };
  try {
    const arg = JSON.stringify({ ...o.shape, steps: o.steps, warmup: o.warmup, threads: cpus().length, ids: Array.from(ids) });
    const out = JSON.parse(execFileSync(python, ['-c', TORCH_SCRIPT, arg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10 * 60 * 1000 })) as {
      error?: string;
      ms: number;
      cpuMs: number;
      first: number;
      last: number;
      torch: string;
      threads: number;
      parameters: number;
      blas?: string[];
    };
    if (out.error) return { ...base, version: 'none', threads: '-', skipped: out.error };
    const s = o.shape;
    const blas = out.blas?.length ? out.blas.join(', ') : 'unknown';
    if (!/openblas|mkl/i.test(blas)) console.warn(`bench-train-step: torch runs on ${blas}, not OpenBLAS: install libopenblas0-pthread for a fair peer`);
    return { ...base, notes: `${base.notes}; BLAS: ${blas}`, version: out.torch, threads: out.threads, parameters: out.parameters, medianStepMs: out.ms, medianStepCpuMs: out.cpuMs, tokensPerSec: (s.batch * s.seq * 1000) / out.ms, firstLoss: out.first, lastLoss: out.last };
  } catch (err) {
    return { ...base, version: 'none', threads: '-', skipped: `${python} with torch not runnable: ${String((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n').pop()}` };
  }
}

// ---------------------------------------------------------------- tfjs
type Tf = typeof import('@tensorflow/tfjs');

async function tfjsRow(o: Options, ids: Int32Array, backend: 'cpu' | 'wasm'): Promise<Row> {
  const tf = require('@tensorflow/tfjs') as Tf;
  const name = `tfjs-${backend}`;
  if (backend === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
  }
  if (!(await tf.setBackend(backend))) return { peer: name, version: pkgVersion('@tensorflow/tfjs'), threads: '-', notes: '', skipped: `tf.setBackend('${backend}') failed` };
  await tf.ready();
  if (backend === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  const { vocab: V, dim: C, layers: L, heads: H, batch: B, seq: T } = o.shape;
  const D = C / H;
  const normal = (shape: number[], std: number) => tf.variable(tf.randomNormal(shape, 0, std, 'float32', 1));
  const ones = (n: number) => tf.variable(tf.ones([n]));
  const zeros = (n: number) => tf.variable(tf.zeros([n]));
  const wte = normal([V, C], 0.02);
  const wpe = normal([T, C], 0.02);
  const blocks = Array.from({ length: L }, () => ({
    g1: ones(C), b1: zeros(C), wqkv: normal([C, 3 * C], 0.02), bqkv: zeros(3 * C), wo: normal([C, C], 0.02), bo: zeros(C),
    g2: ones(C), b2: zeros(C), wfc: normal([C, 4 * C], 0.02), bfc: zeros(4 * C), wp: normal([4 * C, C], 0.02), bp: zeros(C),
  }));
  const gf = ones(C);
  const bf = zeros(C);
  const layerNorm = (x: import('@tensorflow/tfjs').Tensor, g: import('@tensorflow/tfjs').Tensor, b: import('@tensorflow/tfjs').Tensor) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  };
  const gelu = (x: import('@tensorflow/tfjs').Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI)))));
  const idsT = tf.tensor2d(ids, [B, T], 'int32');
  const targets = tf.oneHot(tf.reshape(tf.slice(idsT, [0, 1], [B, T - 1]), [-1]), V);
  const causal = tf.reshape(tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9), [1, 1, T, T]);
  const loss = (): import('@tensorflow/tfjs').Scalar => {
    // tfjs-backend-wasm has no UnsortedSegmentSum (gather's gradient): there the embedding is a one-hot product.
    const tok = backend === 'wasm' ? tf.reshape(tf.matMul(tf.oneHot(tf.reshape(idsT, [-1]), V), wte), [B, T, C]) : tf.gather(wte, idsT);
    let x = tf.add(tok, wpe) as import('@tensorflow/tfjs').Tensor; // (B, T, C); positions are 0..T-1
    for (const k of blocks) {
      const qkv = tf.add(tf.matMul(tf.reshape(layerNorm(x, k.g1, k.b1), [B * T, C]), k.wqkv), k.bqkv);
      const [q, kk, v] = tf.split(tf.reshape(qkv, [B, T, 3 * C]), 3, 2).map((z) => tf.transpose(tf.reshape(z, [B, T, H, D]), [0, 2, 1, 3]));
      const att = tf.softmax(tf.add(tf.mul(tf.matMul(q!, kk!, false, true), 1 / Math.sqrt(D)), causal));
      const y = tf.reshape(tf.transpose(tf.matMul(att, v!), [0, 2, 1, 3]), [B * T, C]);
      x = tf.add(x, tf.reshape(tf.add(tf.matMul(y, k.wo), k.bo), [B, T, C]));
      const hdn = gelu(tf.add(tf.matMul(tf.reshape(layerNorm(x, k.g2, k.b2), [B * T, C]), k.wfc), k.bfc));
      x = tf.add(x, tf.reshape(tf.add(tf.matMul(hdn, k.wp), k.bp), [B, T, C]));
    }
    const hf = tf.reshape(tf.slice(layerNorm(x, gf, bf), [0, 0, 0], [B, T - 1, C]), [B * (T - 1), C]);
    const logits = tf.matMul(hf, wte, false, true);
    return tf.losses.softmaxCrossEntropy(targets, logits) as import('@tensorflow/tfjs').Scalar;
  };
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const vars = [wte, wpe, gf, bf, ...blocks.flatMap((k) => Object.values(k))];
  const r = await timeSteps(o, async () => {
    const l = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(loss, vars);
      opt.applyGradients(grads as never);
      return value;
    });
    const v = (await l.data())[0]!;
    l.dispose();
    return v;
  });
  const parameters = vars.reduce((n, v) => n + v.size, 0);
  for (const t of [...vars, idsT, targets, causal]) t.dispose();
  opt.dispose();
  const threads = backend === 'wasm' ? (require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm')).getThreadsCount() : 1;
  const s = o.shape;
  return {
    peer: name,
    version: pkgVersion(backend === 'cpu' ? '@tensorflow/tfjs' : '@tensorflow/tfjs-backend-wasm'),
    threads,
    parameters,
    medianStepMs: r.ms,
    medianStepCpuMs: r.cpuMs,
    tokensPerSec: (s.batch * s.seq * 1000) / r.ms,
    firstLoss: r.first,
    lastLoss: r.last,
    notes: `tfjs ops + tf.variableGrads + tf.train.adam (no AdamW in tfjs) on the ${backend} backend${backend === 'wasm' ? '; token embedding as a one-hot matmul (the wasm backend lacks gather\'s gradient kernel), ~1 extra head-sized product' : ''}`,
  };
}

// ---------------------------------------------------------------- main
async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const ids = batchIds(o.shape);
  const rows: Row[] = [];
  for (const peer of o.peers) {
    process.stderr.write(`bench-train-step: ${peer}...\n`);
    if (peer === 'tessera') rows.push(await tesseraRow(o, ids));
    else if (peer === 'tessera-lora') rows.push(await tesseraLoraRow(o));
    else if (peer === 'torch') rows.push(torchRow(o, ids));
    else if (peer === 'tfjs-cpu' || peer === 'tfjs-wasm') rows.push(await tfjsRow(o, ids, peer === 'tfjs-cpu' ? 'cpu' : 'wasm'));
    else if (peer === 'gpujs-webgpu' || peer === 'gpujs-cpu') rows.push(await gpujsRow(peer, o.shape, ids, (step) => timeSteps(o, step)));
    else throw new Error(`bench-train-step: unknown peer "${peer}"; use tessera, tessera-lora, torch, tfjs-cpu, tfjs-wasm, gpujs-webgpu, gpujs-cpu`);
  }
  const result = {
    benchmark: 'train-step',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
    shape: o.shape,
    quick: o.quick,
    steps: o.steps,
    warmup: o.warmup,
    rows,
  };
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out + '.tmp', JSON.stringify(result, null, 2) + '\n');
  renameSync(o.out + '.tmp', o.out);
  const s = o.shape;
  console.log(`train step, GPT vocab ${s.vocab} dim ${s.dim} ${s.layers} layers ${s.heads} heads, batch ${s.batch} x ${s.seq} (${o.steps} timed steps, median)`);
  console.log('| peer | threads | params | step ms | CPU ms/step | tokens/s | loss first -> last |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    if (r.skipped) console.log(`| ${r.peer} | - | - | - | - | skipped: ${r.skipped} | - |`);
    else console.log(`| ${r.peer} | ${r.threads} | ${r.parameters} | ${r.medianStepMs!.toFixed(0)} | ${r.medianStepCpuMs?.toFixed(0) ?? '-'} | ${r.tokensPerSec!.toFixed(0)} | ${r.firstLoss!.toFixed(3)} -> ${r.lastLoss!.toFixed(3)} |`);
  }
  console.log(`written ${o.out}`);
  // tfjs-backend-wasm may keep worker threads alive.
  process.exit(0);
}

await main();
