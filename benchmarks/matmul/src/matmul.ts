/**
 * f32 matmul on the CPU, square sizes: Tessera's CPU backend side by side, in one Node process, with
 * tfjs (cpu), tfjs-backend-wasm (XNNPACK, SIMD), js-pytorch, and PyTorch through `python3`.
 *
 *   pnpm bench:matmul                 sizes 256, 512, 1024
 *   pnpm bench:matmul --large         adds 2048 (slow)
 *   pnpm bench:matmul --sizes=64,128 --runs=3 --peers=tessera,tfjs-cpu --out=/tmp/m.json
 *
 * Tessera has three rows: tessera-ts (the TypeScript gemm, the reference kernels), tessera-wasm-1t
 * (the WebAssembly SIMD gemm on one thread) and tessera-wasm-<cores>t (on every core, the default);
 * their `variant` says which gemm build ran ('fma': relaxed SIMD, the default where available;
 * 'simd128': the fallback, also timed as tessera-wasm-simd128-1t/-<cores>t beside it);
 * --peers=tessera selects all of them, and the rows tessera-wasm-bf16b-1t/-<cores>t (B stored in bf16 and read
 * directly by the gemm). --peers=gpujs adds gpujs-webgpu and gpujs-cpu (@tessera/kernels-gpujs,
 * gpu.js WebGPU and cpu modes; only when asked for).
 *
 * Each (peer, size): warm-up runs, then `runs` samples; a sample times enough back-to-back
 * matmuls to last at least --min-sample-ms and reports the time of one. The figure is the median
 * sample, as GFLOP/s = 2·N³ / time. Results go to results/latest.json (written to a temporary
 * name, then renamed).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg, totalmem } from 'node:os';
import { readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { manualSeed, matmul, randn, registerBackend, setBackend, tensor, type Tensor } from '@tessera/tensor';
import { GPUJS_ROWS, gpujsMatmulPeer } from './gpujs-peers.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

// ---------------------------------------------------------------- options

interface Options {
  sizes: number[];
  runs: number;
  warmup: number;
  minSampleMs: number;
  /** A (peer, size) whose single matmul is projected to take longer than this is skipped. */
  maxMatmulSec: number;
  peers: string[] | null;
  out: string;
}

function parseArgs(argv: readonly string[]): Options {
  const opts: Options = {
    sizes: [256, 512, 1024],
    runs: 7,
    warmup: 2,
    minSampleMs: 100,
    maxMatmulSec: 20,
    peers: null,
    out: join(here, '..', 'results', 'latest.json'),
  };
  let large = false;
  for (const arg of argv) {
    const [key, value = ''] = arg.replace(/^--/, '').split('=', 2) as [string, string?];
    const num = (): number => {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new Error(`bench-matmul: --${key} needs a non-negative number (got "${value}")`);
      return n;
    };
    switch (key) {
      case 'large': large = true; break;
      case 'sizes': opts.sizes = value.split(',').map((s) => Number(s)); break;
      case 'runs': opts.runs = Math.max(1, Math.round(num())); break;
      case 'warmup': opts.warmup = Math.round(num()); break;
      case 'min-sample-ms': opts.minSampleMs = num(); break;
      case 'max-matmul-sec': opts.maxMatmulSec = num(); break;
      case 'peers': opts.peers = value.split(',').filter(Boolean); break;
      case 'out': opts.out = resolve(value); break;
      case 'help':
        console.log('options: --large --sizes=256,512 --runs=7 --warmup=2 --min-sample-ms=100 --max-matmul-sec=20 --peers=a,b --out=file.json');
        process.exit(0);
      // falls through (exit never returns)
      default:
        if (arg === '--') break;
        throw new Error(`bench-matmul: unknown option "${arg}"; see --help`);
    }
  }
  if (large && !opts.sizes.includes(2048)) opts.sizes.push(2048);
  if (opts.sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`bench-matmul: --sizes must be positive integers (got ${opts.sizes.join(',')})`);
  return opts;
}

// ---------------------------------------------------------------- peers

/** One implementation under test; `prepare` uploads the inputs and returns one timed matmul. */
interface Peer {
  name: string;
  version: string;
  threads: number;
  notes: string;
  /** Tessera's WebAssembly rows: the gemm build that ran ('fma' = relaxed SIMD, 'simd128'). */
  variant?: string;
  /** Returns the function to time (one matmul, result released) and the product for the check. */
  prepare(n: number, a: Float32Array, b: Float32Array): Promise<{ run: () => void | Promise<void>; product: () => Promise<Float32Array>; release: () => void }>;
}

interface Result {
  peer: string;
  n: number;
  /** Tessera's WebAssembly rows: the gemm build that ran. */
  variant?: string;
  medianMs?: number;
  minMs?: number;
  gflops?: number;
  ratioVsTfjsCpu?: number;
  samples?: number;
  matmulsPerSample?: number;
  /** max |C − C_tfjs-cpu| / max |C_tfjs-cpu| on the same inputs. */
  maxRelDiffVsTfjsCpu?: number;
  skipped?: string;
}

/** A dependency's version, from the package.json above its entry point (not every package exports ./package.json). */
function pkgVersion(name: string): string {
  try {
    let dir = dirname(require.resolve(name));
    for (;;) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version: string };
        if (pkg.name === name) return pkg.version;
      } catch {
        // no package.json at this level
      }
      const up = dirname(dir);
      if (up === dir) return 'unknown';
      dir = up;
    }
  } catch {
    return 'unknown';
  }
}

/**
 * Tessera on one CPU backend: `backend` is the registered name whose kernels this row times. With
 * `bDtype` 'bf16', B is stored in bf16 (a frozen half-precision weight) and read directly by the gemm.
 */
function tesseraPeer(name: string, backend: string, threads: number, notes: string, bDtype: 'f32' | 'bf16' = 'f32', variant?: string): Peer {
  return {
    name,
    version: pkgVersion('@tessera/kernels-cpu'),
    threads,
    notes,
    variant,
    async prepare(n, a, b) {
      setBackend(backend);
      const ta = tensor(a, { shape: [n, n] });
      const tb = tensor(b, { shape: [n, n], dtype: bDtype });
      return {
        run: () => matmul(ta, tb).dispose(),
        product: async () => {
          const c = matmul(ta, tb);
          const data = (await c.data()) as Float32Array;
          c.dispose();
          return data;
        },
        release: () => {
          ta.dispose();
          tb.dispose();
        },
      };
    },
  };
}

/**
 * Tessera's rows: the TypeScript gemm (the reference kernels, `wasm: false`), and the WebAssembly
 * SIMD gemm on one thread and on every core. Each runs on its own registered CPU backend.
 */
function tesseraPeers({ createCpuBackend, cpuGemmVariant }: typeof import('@tessera/kernels-cpu')): Peer[] {
  const cores = cpus().length;
  registerBackend(createCpuBackend({ name: 'tessera-ts', wasm: false }));
  const peers = [tesseraPeer('tessera-ts', 'tessera-ts', 1, '@tessera/kernels-cpu TypeScript gemm (createCpuBackend({ wasm: false })), one JS thread')];
  let variant: string;
  try {
    variant = cpuGemmVariant(registerBackend(createCpuBackend({ name: 'tessera-wasm-1t', wasm: true, threads: 1 }))) ?? '?';
    registerBackend(createCpuBackend({ name: 'tessera-wasm', wasm: true, threads: cores }));
  } catch {
    return peers; // no WebAssembly SIMD here: only the TypeScript row
  }
  const gemm = `@tessera/kernels-cpu WebAssembly SIMD gemm ('${variant}' build)`;
  peers.push(tesseraPeer('tessera-wasm-1t', 'tessera-wasm-1t', 1, `${gemm}, createCpuBackend({ threads: 1 })`, 'f32', variant));
  if (cores > 1) peers.push(tesseraPeer(`tessera-wasm-${cores}t`, 'tessera-wasm', cores, `${gemm}, createCpuBackend({ threads: ${cores} }) (the default: every core)`, 'f32', variant));
  // The SIMD128 fallback (what runs where relaxed SIMD does not), beside the default build.
  if (variant !== 'simd128') {
    registerBackend(createCpuBackend({ name: 'tessera-wasm-simd128-1t', threads: 1, gemmVariant: 'simd128' }));
    registerBackend(createCpuBackend({ name: 'tessera-wasm-simd128', threads: cores, gemmVariant: 'simd128' }));
    const fallback = "@tessera/kernels-cpu WebAssembly SIMD gemm, the 'simd128' fallback build (createCpuBackend({ gemmVariant: 'simd128' }))";
    peers.push(tesseraPeer('tessera-wasm-simd128-1t', 'tessera-wasm-simd128-1t', 1, `${fallback}, threads: 1`, 'f32', 'simd128'));
    if (cores > 1) peers.push(tesseraPeer(`tessera-wasm-simd128-${cores}t`, 'tessera-wasm-simd128', cores, `${fallback}, threads: ${cores}`, 'f32', 'simd128'));
  }
  // B in bf16, widened while packed (issue 7): what a frozen bf16 weight costs against f32. Its
  // maxRelDiffVsTfjsCpu includes B's rounding to bf16 (~2^-9 per element).
  const bf16 = 'A f32 · B bf16 (B read directly by the gemm, widened while packed)';
  peers.push(tesseraPeer('tessera-wasm-bf16b-1t', 'tessera-wasm-1t', 1, `${gemm}, ${bf16}, threads: 1`, 'bf16', variant));
  if (cores > 1) peers.push(tesseraPeer(`tessera-wasm-bf16b-${cores}t`, 'tessera-wasm', cores, `${gemm}, ${bf16}, threads: ${cores}`, 'bf16', variant));
  return peers;
}

type Tf = typeof import('@tensorflow/tfjs');

async function tfjsPeers(): Promise<{ tf: Tf; cpu: Peer; wasm: Peer | { error: string } }> {
  const tf = require('@tensorflow/tfjs') as Tf;
  const tfPeer = (backend: 'cpu' | 'wasm', threads: number, notes: string): Peer => ({
    name: `tfjs-${backend}`,
    version: backend === 'cpu' ? pkgVersion('@tensorflow/tfjs') : pkgVersion('@tensorflow/tfjs-backend-wasm'),
    threads,
    notes,
    async prepare(n, a, b) {
      await tf.setBackend(backend);
      await tf.ready();
      // The cpu backend prints an "install tfjs-node" banner on first use; it is not news here.
      if (backend === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      const ta = tf.tensor2d(a, [n, n], 'float32');
      const tb = tf.tensor2d(b, [n, n], 'float32');
      return {
        run: () => {
          const c = tf.matMul(ta, tb);
          c.dataSync(); // cpu and wasm compute eagerly; this read is a cheap guard against laziness
          c.dispose();
        },
        product: async () => {
          const c = tf.matMul(ta, tb);
          const data = (await c.data()) as Float32Array;
          c.dispose();
          return data;
        },
        release: () => {
          ta.dispose();
          tb.dispose();
        },
      };
    },
  });
  const cpu = tfPeer('cpu', 1, '@tensorflow/tfjs cpu backend (plain JS, one thread)');
  let wasm: Peer | { error: string };
  try {
    const wasmPkg = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    // In Node the .wasm files are read from disk: point the loader at the package's dist folder.
    wasmPkg.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
    await tf.setBackend('wasm');
    await tf.ready();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    const threads = wasmPkg.getThreadsCount();
    wasm = tfPeer(
      'wasm',
      threads,
      `@tensorflow/tfjs-backend-wasm (XNNPACK); simd=${simd}, multithread=${mt}, threads=${threads}`,
    );
  } catch (err) {
    wasm = { error: `tfjs-backend-wasm failed to initialise: ${(err as Error).message}` };
  }
  return { tf, cpu, wasm };
}

type JsTorch = typeof import('js-pytorch').torch;

async function jsPytorchPeer(): Promise<Peer> {
  const { torch } = (await import('js-pytorch')) as { torch: JsTorch };
  const nested = (x: Float32Array, n: number): number[][] =>
    Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * n, (i + 1) * n)));
  return {
    name: 'js-pytorch',
    version: pkgVersion('js-pytorch'),
    threads: 1,
    notes: 'js-pytorch on device "cpu": nested JS arrays, naive i-j-k loop, one thread',
    async prepare(n, a, b) {
      const ta = torch.tensor(nested(a, n), false, 'cpu');
      const tb = torch.tensor(nested(b, n), false, 'cpu');
      return {
        run: () => void torch.matmul(ta, tb),
        product: async () => Float32Array.from((torch.matmul(ta, tb).data as number[][]).flat()),
        release: () => {},
      };
    },
  };
}

// ---------------------------------------------------------------- timing

const median = (xs: number[]): number => {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const gflops = (n: number, ms: number): number => (2 * n ** 3) / (ms * 1e-3) / 1e9;

function maxRelDiff(c: Float32Array, ref: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(c[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Times one (peer, size). `lastSec` is this peer's single-matmul time at the previous size. */
async function timePeer(peer: Peer, n: number, a: Float32Array, b: Float32Array, opts: Options, lastSec: Map<string, [number, number]>): Promise<{ result: Result; product?: Float32Array }> {
  const prev = lastSec.get(peer.name);
  // tfjs-cpu is the reference every ratio divides by, so it is never skipped.
  if (prev && peer.name !== 'tfjs-cpu') {
    const projected = prev[1] * (n / prev[0]) ** 3;
    if (projected > opts.maxMatmulSec) {
      return { result: { peer: peer.name, n, skipped: `projected ${projected.toFixed(0)} s per matmul > --max-matmul-sec=${opts.maxMatmulSec}` } };
    }
  }
  const job = await peer.prepare(n, a, b);
  try {
    const product = await job.product(); // also the first warm-up
    let t0 = performance.now();
    await job.run();
    let one = performance.now() - t0;
    for (let i = 1; i < opts.warmup && one < 2000; i++) {
      t0 = performance.now();
      await job.run();
      one = performance.now() - t0;
    }
    // Slow peers get fewer samples so the whole run stays bounded.
    const runs = one > 5000 ? Math.min(opts.runs, 1) : one > 1000 ? Math.min(opts.runs, 3) : opts.runs;
    const reps = Math.max(1, Math.ceil(opts.minSampleMs / Math.max(one, 1e-3)));
    const samples: number[] = [];
    for (let s = 0; s < runs; s++) {
      t0 = performance.now();
      for (let r = 0; r < reps; r++) await job.run();
      samples.push((performance.now() - t0) / reps);
    }
    const med = median(samples);
    lastSec.set(peer.name, [n, med / 1000]);
    return {
      result: { peer: peer.name, n, variant: peer.variant, medianMs: med, minMs: Math.min(...samples), gflops: gflops(n, med), samples: runs, matmulsPerSample: reps },
      product,
    };
  } finally {
    job.release();
  }
}

// ---------------------------------------------------------------- PyTorch (python3 subprocess)

const TORCH_SCRIPT = String.raw`
import json, sys, time, statistics
opts = json.loads(sys.argv[1])
try:
    import torch
except Exception as e:
    print(json.dumps({"error": "import torch failed: %s: %s" % (type(e).__name__, e)}))
    sys.exit(0)
torch.manual_seed(0)
torch.matmul(torch.ones(8, 8), torch.ones(8, 8))
blas = set()
try:
    import os
    for line in open("/proc/self/maps"):
        path = line.split()[-1]
        if "blas" in path.lower() or "mkl" in path.lower():
            blas.add(os.path.realpath(path))
except OSError:
    pass
out = {"version": torch.__version__, "defaultThreads": torch.get_num_threads(), "blas": sorted(blas), "runs": []}
default_threads = torch.get_num_threads()
for threads in sorted({default_threads, 1, opts["cores"]}):
    torch.set_num_threads(threads)
    # OpenBLAS keeps its own thread pool, which torch.set_num_threads does not reach.
    for lib in blas:
        if "openblas" in lib and lib.endswith(".so") or "libopenblas" in lib:
            try:
                import ctypes
                ctypes.CDLL(lib).openblas_set_num_threads(threads)
            except (OSError, AttributeError):
                pass
    for n in opts["sizes"]:
        a = torch.randn(n, n, dtype=torch.float32); b = torch.randn(n, n, dtype=torch.float32)
        with torch.no_grad():
            for _ in range(max(1, opts["warmup"])):
                t0 = time.perf_counter(); torch.matmul(a, b); one = time.perf_counter() - t0
            reps = max(1, int(-(-opts["minSampleMs"] / 1000 // max(one, 1e-6))))
            samples = []
            for _ in range(opts["runs"]):
                t0 = time.perf_counter()
                for _ in range(reps): torch.matmul(a, b)
                samples.append((time.perf_counter() - t0) / reps)
        out["runs"].append({"threads": threads, "n": n, "medianMs": statistics.median(samples) * 1e3, "minMs": min(samples) * 1e3, "samples": len(samples), "matmulsPerSample": reps})
print(json.dumps(out))
`;

interface TorchOut {
  error?: string;
  version?: string;
  defaultThreads?: number;
  /** BLAS libraries mapped into the python process (Debian's torch uses whichever libblas.so.3 is selected). */
  blas?: string[];
  runs?: { threads: number; n: number; medianMs: number; minMs: number; samples: number; matmulsPerSample: number }[];
}

/**
 * Runs the PyTorch timings with the first interpreter that imports torch: $TESSERA_PYTHON, then
 * `python3` on PATH, then Debian's /usr/bin/python3 (where python3-torch installs, even when a
 * pyenv or venv python3 comes first on PATH).
 */
function runTorch(opts: Options): TorchOut & { python?: string } {
  const candidates = [...new Set([process.env.TESSERA_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c))];
  const args = JSON.stringify({ sizes: opts.sizes, runs: opts.runs, warmup: opts.warmup, minSampleMs: opts.minSampleMs, cores: cpus().length });
  const errors: string[] = [];
  for (const python of candidates) {
    try {
      const stdout = execFileSync(python, ['-c', TORCH_SCRIPT, args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15 * 60 * 1000 });
      const out = JSON.parse(stdout.trim().split('\n').pop()!) as TorchOut;
      if (!out.error) return { ...out, python };
      errors.push(`${python}: ${out.error}`);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      errors.push(`${python}: ${e.code === 'ENOENT' ? 'not found' : (e.stderr || e.message).trim().split('\n').pop()}`);
    }
  }
  return { error: `${errors.join('; ')} (PyTorch for CPU on Debian: apt-get install python3-torch)` };
}

// ---------------------------------------------------------------- machine

function machine(): Record<string, unknown> {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1]!.trim();
  } catch {
    // not Linux: os.cpus() gave the model
  }
  let flags: string[] = [];
  try {
    const f = /^flags\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (f) flags = f[1]!.split(/\s+/).filter((x) => /^(avx|avx2|fma|avx512f|sse4_2|neon|asimd)$/.test(x));
  } catch {
    // no /proc
  }
  return {
    cpuModel,
    cores: cpus().length,
    simdFlags: flags,
    totalMemGiB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
  };
}

// ---------------------------------------------------------------- inputs

async function drawNormal(n: number): Promise<Float32Array> {
  const t: Tensor = randn([n, n]);
  const data = (await t.data()) as Float32Array;
  t.dispose();
  return data;
}

/** Inputs when Tessera cannot load: Box–Muller over a small xorshift generator. */
function fallbackNormal(n: number, seed: number): Float32Array {
  let s = (seed * 0x9e3779b9) >>> 0 || 1;
  const u = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 1) / 4294967297;
  };
  const out = new Float32Array(n * n);
  for (let i = 0; i < out.length; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const wanted = (name: string): boolean => opts.peers === null || opts.peers.includes(name);
  const info = machine();
  // The 1-minute load average around the run: figures from a shared machine are only comparable with it.
  const loadAtStart = loadavg()[0]!;
  console.log(`matmul f32 · ${info.cpuModel} · ${info.cores} cores · node ${info.node} · sizes ${opts.sizes.join(', ')}`);

  const peers: Peer[] = [];
  const peerInfo: Record<string, unknown>[] = [];
  // Tessera's CPU backend also draws the shared inputs, so it is registered even when not timed.
  let tesseraReady = false;
  let tesseraRows: Peer[] = [];
  try {
    const kernelsCpu = await import('@tessera/kernels-cpu');
    setBackend(registerBackend(kernelsCpu.createCpuBackend()).name);
    tesseraRows = tesseraPeers(kernelsCpu);
    setBackend('cpu');
    tesseraReady = true;
  } catch (err) {
    peerInfo.push({ name: 'tessera', available: false, note: `@tessera/kernels-cpu failed to load: ${(err as Error).message}` });
  }
  // tfjs-cpu goes first: it is the reference for the ratios and the correctness check.
  const tfjs = await tfjsPeers();
  peers.push(tfjs.cpu); // always: the reference for ratios and the correctness check
  if (tesseraReady) peers.push(...tesseraRows.filter((p) => wanted(p.name) || wanted('tessera')));
  if (wanted('tfjs-wasm')) {
    if ('error' in tfjs.wasm) peerInfo.push({ name: 'tfjs-wasm', available: false, note: tfjs.wasm.error });
    else peers.push(tfjs.wasm);
  }
  // The gpujs rows only when asked for (--peers=gpujs or a row name): gpu.js's cpu mode is slow.
  for (const row of GPUJS_ROWS.filter((r) => opts.peers?.includes(r) || opts.peers?.includes('gpujs'))) {
    const peer = await gpujsMatmulPeer(row);
    if ('error' in peer) peerInfo.push({ name: row, available: false, note: peer.error });
    else peers.push(peer);
  }
  if (wanted('js-pytorch')) {
    try {
      peers.push(await jsPytorchPeer());
    } catch (err) {
      peerInfo.push({ name: 'js-pytorch', available: false, note: `import failed: ${(err as Error).message}` });
    }
  }

  manualSeed(1234);
  const results: Result[] = [];
  const lastSec = new Map<string, [number, number]>();
  for (const n of opts.sizes) {
    // The same inputs for every JS peer, drawn by Tessera's seeded RNG.
    if (tesseraReady) setBackend('cpu');
    const [a, b] = tesseraReady ? [await drawNormal(n), await drawNormal(n)] : [fallbackNormal(n, 1), fallbackNormal(n, 2)];
    let reference: Float32Array | undefined;
    for (const peer of peers) {
      process.stdout.write(`  ${peer.name.padEnd(12)} n=${String(n).padEnd(5)} `);
      try {
        const { result, product } = await timePeer(peer, n, a!, b!, opts, lastSec);
        if (peer.name === 'tfjs-cpu') reference = product;
        else if (product && reference) result.maxRelDiffVsTfjsCpu = maxRelDiff(product, reference);
        results.push(result);
        console.log(result.skipped ? `skipped: ${result.skipped}` : `${result.gflops!.toFixed(2)} GFLOP/s (${result.medianMs!.toFixed(2)} ms)`);
      } catch (err) {
        results.push({ peer: peer.name, n, skipped: `error: ${(err as Error).message}` });
        console.log(`error: ${(err as Error).message}`);
      }
    }
  }
  for (const p of peers) peerInfo.push({ name: p.name, available: true, version: p.version, threads: p.threads, variant: p.variant, note: p.notes });

  if (wanted('pytorch') || wanted('pytorch-1t')) {
    console.log('  pytorch      (python3 subprocess)');
    const torch = runTorch(opts);
    if (torch.error) {
      peerInfo.push({ name: 'pytorch', available: false, note: `skipped: ${torch.error}` });
      console.log(`  pytorch skipped: ${torch.error}`);
    } else {
      for (const r of torch.runs ?? []) {
        const name = r.threads === torch.defaultThreads ? 'pytorch' : `pytorch-${r.threads}t`;
        results.push({ peer: name, n: r.n, medianMs: r.medianMs, minMs: r.minMs, gflops: gflops(r.n, r.medianMs), samples: r.samples, matmulsPerSample: r.matmulsPerSample });
      }
      const names = [...new Set((torch.runs ?? []).map((r) => r.threads))];
      for (const t of names) {
        const name = t === torch.defaultThreads ? 'pytorch' : `pytorch-${t}t`;
        peerInfo.push({ name, available: true, version: torch.version, threads: t, note: `PyTorch ${torch.version} via ${torch.python} (Debian python3-torch), torch.set_num_threads(${t}); BLAS: ${torch.blas?.join(', ') || 'unknown'}; inputs from torch.randn, not the shared ones` });
      }
    }
  }

  // Ratios against tfjs-cpu at the same size.
  for (const r of results) {
    const ref = results.find((x) => x.peer === 'tfjs-cpu' && x.n === r.n && x.gflops !== undefined);
    if (ref && r.gflops !== undefined) r.ratioVsTfjsCpu = r.gflops / ref.gflops!;
  }

  printTable(results, opts.sizes);
  const report = {
    benchmark: 'matmul',
    formatVersion: 1,
    dtype: 'f32',
    date: new Date().toISOString(),
    machine: info,
    loadAverage1m: { start: loadAtStart, end: loadavg()[0]! },
    settings: { sizes: opts.sizes, runs: opts.runs, warmup: opts.warmup, minSampleMs: opts.minSampleMs, maxMatmulSec: opts.maxMatmulSec },
    method: 'median over samples of the time of one C = A·B (square n×n, f32, inputs drawn once); GFLOP/s = 2n³/time; ratio = GFLOP/s ÷ tfjs-cpu GFLOP/s at the same n',
    peers: peerInfo,
    results,
  };
  mkdirSync(dirname(opts.out), { recursive: true });
  const tmp = `${opts.out}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(report, null, 2) + '\n');
  renameSync(tmp, opts.out);
  console.log(`\nwrote ${opts.out}`);
  // tfjs-backend-wasm may keep worker threads alive.
  process.exit(0);
}

function printTable(results: Result[], sizes: number[]): void {
  const names = [...new Set(results.map((r) => r.peer))];
  const cell = (peer: string, n: number): string => {
    const r = results.find((x) => x.peer === peer && x.n === n);
    if (!r) return '—';
    if (r.gflops === undefined) return 'skipped';
    return `${r.gflops.toFixed(2)} (${r.ratioVsTfjsCpu?.toFixed(2) ?? '?'}×)`;
  };
  const header = ['peer', ...sizes.map((n) => `n=${n}`)];
  const rows = names.map((p) => [p, ...sizes.map((n) => cell(p, n))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cols: string[]): string => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log('\nGFLOP/s (ratio vs tfjs-cpu)');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
