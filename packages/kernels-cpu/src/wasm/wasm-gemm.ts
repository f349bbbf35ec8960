// The WebAssembly SIMD gemm for f32: operands are packed straight from their strided typed arrays
// into one growing shared WebAssembly memory (packing is the one copy in; it also handles every
// transposition and stride), the SIMD module multiplies the packed panels into a padded C there,
// and the valid corner of C is copied out (the one copy out). The memory only grows, so steady-state
// calls allocate nothing. The memory is the agent's one shared memory (wasm/f32-arena.ts): operands
// that live in its arena are read where they are instead of copied raw, and a result that lives there
// receives C in place when its layout allows. f16/bf16 operands (16-bit words) are widened to f32 while they are packed,
// so a half-precision weight is multiplied without an f32 copy of it ever existing.
import type { MatrixOperand } from '../gemm.js';
import { attentionHeadsTask, type AttentionExports } from './attention-task.js';
import { SCRATCH_END, agentMemory, arenaBlock } from './f32-arena.js';
import { GemmWorkers } from './gemm-workers.js';
import { GEMM_TILES, gemmModule, gemmVariant, type GemmTile, type GemmVariant } from './gemm-module.js';
import { ELEMENT_CODE, halfValues, type GemmElement } from './half-values.js';

/** A strided operand of the gemm: f32 values, or f16/bf16 words in a Uint16Array (`element`). */
export interface GemmOperand extends MatrixOperand {
  /** What `data` holds (default f32). */
  readonly element?: GemmElement;
}

const PAGE = 65536;
/** Below this many padded multiply-adds, waking other threads costs more than it saves. */
const THREAD_MIN_WORK = 1 << 21;

/** The module's `job` export: pack this thread's B slivers from the raw copy at `src` (unless 0), then multiply them. */
/** The module's `batch` export: multiply entries eStart..eEnd laid out `stride` bytes apart from `base`. */
type BatchFn = (base: number, stride: number, eStart: number, eEnd: number, mPad: number, nPad: number, k: number) => void;

type JobFn = (pa: number, pb: number, pc: number, mPad: number, nPad: number, k: number, nStart: number, nEnd: number, src: number, rs: number, cs: number, n: number, kind: number) => void;

/**
 * The most scratch one product may use: every engine lays out its scratch below SCRATCH_END (so byte
 * offsets also stay below 2^31, and `>> 2` and the module's i32 address arithmetic never overflow).
 * Larger products go to the TypeScript gemm.
 */
const MAX_BYTES = SCRATCH_END;

/** A raw copy of B (its element span) is taken when it is at most this many times B's size (A likewise). */
const RAW_SPAN_LIMIT = 2;

/** The `job` kind that only packs A slivers from a raw copy (0-2: pack B of that element, then multiply). */
const PACK_A = 3;

const roundUp = (x: number, to: number): number => Math.ceil(x / to) * to;

/** An f32 gemm engine: one shared memory, one instance of the SIMD module, and its worker threads. */
export class WasmGemm {
  /** The module build this engine (and its workers) run. */
  readonly variant: GemmVariant;
  /** The build's register tile and depth block (packed layouts and the attention task follow them). */
  readonly tile: GemmTile;
  private readonly memory: WebAssembly.Memory;
  private readonly job: JobFn;
  private readonly batchFn: BatchFn;
  private readonly exports: AttentionExports;
  private readonly module: WebAssembly.Module;
  private readonly requestedThreads: number;
  private readonly threadMinWork: number;
  private workers: GemmWorkers | null = null;
  private f32: Float32Array;
  /** The same memory as 16-bit words (raw copies of f16/bf16 B). */
  private u16: Uint16Array;

  /**
   * Creates the engine, or throws where `gemmModule(variant)` is null (callers check first). Products of
   * fewer than `threadMinWork` multiply-adds stay on the calling thread, and A and B of at least
   * `threadMinWork / 32` elements are packed in WebAssembly rather than JS (tests set 0 or Infinity). The
   * variant defaults to gemmVariant(): 'fma' where relaxed SIMD is available.
   */
  constructor(threads: number, threadMinWork = THREAD_MIN_WORK, variant: GemmVariant = gemmVariant()) {
    this.threadMinWork = threadMinWork;
    const module = gemmModule(variant);
    if (!module) {
      throw new Error(
        variant === 'fma'
          ? "WasmGemm: the 'fma' gemm needs WebAssembly relaxed SIMD, which this engine does not accept; use the 'simd128' variant (TESSERA_GEMM_VARIANT=simd128)"
          : 'WasmGemm: WebAssembly SIMD with shared memory is not available here',
      );
    }
    this.module = module;
    this.variant = variant;
    this.tile = GEMM_TILES[variant];
    this.requestedThreads = Math.max(1, Math.floor(threads));
    this.memory = agentMemory();
    const exports = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports;
    this.job = exports.job as JobFn;
    this.batchFn = exports.batch as BatchFn;
    this.exports = exports as unknown as AttentionExports;
    this.f32 = new Float32Array(this.memory.buffer);
    this.u16 = new Uint16Array(this.memory.buffer);
  }

  /** Threads this engine uses for large products. */
  get threads(): number {
    return this.requestedThreads;
  }

  /** Grows the memory to at least `bytes` and refreshes the view (growing replaces the buffer). */
  private reserve(bytes: number): Float32Array {
    if (bytes > MAX_BYTES) throw new Error(`WasmGemm: a layout of ${bytes} bytes would overlap the f32 arena at byte ${MAX_BYTES}; this is a bug in @tessera/kernels-cpu (check fits first)`);
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    if (this.f32.buffer.byteLength !== this.memory.buffer.byteLength) {
      this.f32 = new Float32Array(this.memory.buffer);
      this.u16 = new Uint16Array(this.memory.buffer);
    }
    return this.f32;
  }

  /** True when an m×k by k×n product fits the engine's memory (and `matmul` may be called). */
  fits(m: number, n: number, k: number): boolean {
    const mPad = roundUp(m, this.tile.mr);
    const nPad = roundUp(n, this.tile.nr);
    // Packed A, packed B and C (raw copies only where they fit too: see matmul).
    return this.scratchBytes(mPad, nPad, k) <= MAX_BYTES;
  }

  /** Scratch bytes of packed A, packed B and C, with their 64-byte alignment and the unused first 64 bytes. */
  private scratchBytes(mPad: number, nPad: number, k: number): number {
    return 4 * (mPad * k + nPad * k + mPad * nPad) + 4 * 64;
  }

  /** out[outOffset + i*n + j] = (A·B)[i, j] for m×k A and k×n B of any strides and elements, in f32 (check `fits` first). */
  matmul(m: number, n: number, k: number, a: GemmOperand, b: GemmOperand, out: Float32Array, outOffset: number): void {
    const mPad = roundUp(m, this.tile.mr);
    const nPad = roundUp(n, this.tile.nr);
    // When threads share the product, B is copied in raw (one memcpy-speed set) and each thread
    // packs its own slivers in WebAssembly, taking B's packing off the calling thread; not when B's
    // element span is much larger than B (a narrow slice of a big matrix) or a stride is negative.
    // On one thread the same goes for a B of >= threadMinWork / 32 elements: copy plus WebAssembly
    // packing took 1-6% less CPU than the JS loop (x @ W.T 1024x256x768 9.80 vs 9.93 ms, dense
    // 1024^3 53.4 vs 54.3, 256^3 0.86 vs 0.92; alternating in one process at load ~10).
    const slivers = nPad / this.tile.nr;
    const pool = this.pool(mPad * nPad * k, slivers);
    const span = b.rowStride >= 0 && b.colStride >= 0 ? (k - 1) * b.rowStride + (n - 1) * b.colStride + 1 : Infinity;
    // An f32 operand in the arena is read where it is (no raw copy, so no limit on its span).
    const bBlock = (b.element ?? 'f32') === 'f32' && span < Infinity ? arenaBlock(b.data) : null;
    // Raw copies go past the packed panels and C: only where they stay in the scratch region.
    const room = MAX_BYTES - this.scratchBytes(mPad, nPad, k);
    const bBytes = (b.element ?? 'f32') === 'f32' ? 4 : 2;
    const raw = (pool !== null || k * n >= this.threadMinWork / 32) && (bBlock !== null || (span <= RAW_SPAN_LIMIT * k * n && span * bBytes + 64 <= room));
    // A large f32 A is likewise copied in raw and packed in WebAssembly: by all threads, as a first job
    // before the product's own (every thread multiplies with all of A), or by the calling thread alone
    // (copy plus WebAssembly packing beat JS packing there too: 1024x1024x256 30.7 -> 29.6 ms, A = x.T
    // 768x1024x256 29.6 -> 25.5 ms, at load ~5).
    const aSlivers = mPad / this.tile.mr;
    const aSpan = a.rowStride >= 0 && a.colStride >= 0 ? (m - 1) * a.rowStride + (k - 1) * a.colStride + 1 : Infinity;
    const aBlock = (a.element ?? 'f32') === 'f32' && aSpan < Infinity ? arenaBlock(a.data) : null;
    const rawA =
      (a.element ?? 'f32') === 'f32' && aSlivers >= 2 && k > 0 && m * k >= this.threadMinWork / 32 &&
      (aBlock !== null || (aSpan <= RAW_SPAN_LIMIT * m * k && aSpan * 4 + (raw && bBlock === null ? span * bBytes : 0) + 128 <= room));
    // C lands straight in an arena result when its rows are the result's rows (n a multiple of the
    // tile's columns) and the padded rows past m (when m is not a multiple of the tile's rows) fall in
    // the block's slack, past every element of the result.
    const outBlock = n === nPad ? arenaBlock(out) : null;
    const cInPlace = outBlock !== null && (mPad === m ? outOffset + m * n <= out.length : outOffset + m * n === out.length && outOffset + mPad * n <= outBlock.floats);
    // Byte offsets, 64-byte aligned; address 0 stays unused (a raw source of 0 means "already packed").
    const pa = 64;
    const pb = roundUp(pa + mPad * k * 4, 64);
    const scratchC = roundUp(pb + nPad * k * 4, 64);
    const pc = cInPlace ? outBlock.byte + 4 * outOffset : scratchC;
    const bElement = b.element ?? 'f32';
    const bytes = bElement === 'f32' ? 4 : 2;
    const afterC = cInPlace ? scratchC : scratchC + mPad * nPad * 4;
    const rawCopyB = raw && bBlock === null;
    const rawCopyA = rawA && aBlock === null;
    const src = !raw ? 0 : bBlock !== null ? bBlock.byte + 4 * b.offset : roundUp(afterC, 64);
    const srcA = aBlock !== null && rawA ? aBlock.byte + 4 * a.offset : roundUp(rawCopyB ? src + span * bytes : afterC, 64);
    const mem = this.reserve(rawCopyA ? srcA + aSpan * 4 : rawCopyB ? src + span * bytes : afterC);
    if (rawA) {
      if (rawCopyA) mem.set(a.data.subarray(a.offset, a.offset + aSpan) as Float32Array, srcA >> 2);
      const packArgs = [pa, pb, pc, mPad, nPad, k, srcA, a.rowStride, a.colStride, m, PACK_A] as const;
      if (pool) pool.run('slivers', packArgs, aSlivers, (s, e) => this.job(pa, pb, pc, mPad, nPad, k, s, e, srcA, a.rowStride, a.colStride, m, PACK_A));
      else this.job(pa, pb, pc, mPad, nPad, k, 0, aSlivers, srcA, a.rowStride, a.colStride, m, PACK_A);
    } else this.packA(a, m, k, mPad, pa >> 2);
    if (rawCopyB && bytes === 4) mem.set(b.data.subarray(b.offset, b.offset + span) as Float32Array, src >> 2);
    else if (rawCopyB) this.u16.set(b.data.subarray(b.offset, b.offset + span) as Uint16Array, src >> 1);
    else if (!raw) this.packB(b, n, k, nPad, pb >> 2);
    // The kernel's first depth block stores C (no zeroing pass); with no depth at all it writes nothing.
    if (k === 0) mem.fill(0, pc >> 2, (pc >> 2) + mPad * nPad);
    // A raw half B is widened by the module while each thread packs its slivers.
    const kind = raw ? ELEMENT_CODE[bElement] : 0;
    const args = [pa, pb, pc, mPad, nPad, k, src, b.rowStride, b.colStride, n, kind] as const;
    if (pool) pool.run('slivers', args, slivers, (s, e) => this.job(pa, pb, pc, mPad, nPad, k, s, e, src, b.rowStride, b.colStride, n, kind));
    else this.job(pa, pb, pc, mPad, nPad, k, 0, slivers, src, b.rowStride, b.colStride, n, kind);
    if (cInPlace) return;
    const c = pc >> 2;
    if (n === nPad) out.set(mem.subarray(c, c + m * n), outOffset);
    else for (let i = 0; i < m; i++) out.set(mem.subarray(c + i * nPad, c + i * nPad + n), outOffset + i * n);
  }

  /** Bytes one batch entry takes (packed A, packed B, C), 64-byte aligned. */
  private entryBytes(m: number, n: number, k: number): number {
    const mPad = roundUp(m, this.tile.mr);
    const nPad = roundUp(n, this.tile.nr);
    return roundUp(4 * (mPad * k + nPad * k + mPad * nPad), 64);
  }

  /**
   * True when a batch of `count` m×k by k×n products should go through `matmulBatch`: each entry
   * is too small to split across threads, all of them together are not, and they fit the memory.
   */
  splitsBatch(count: number, m: number, n: number, k: number): boolean {
    const work = roundUp(m, this.tile.mr) * roundUp(n, this.tile.nr) * k;
    return this.requestedThreads > 1 && count >= 2 && work < this.threadMinWork && work * count >= this.threadMinWork && this.fitsBatch(count, m, n, k);
  }

  /** True when a batch of `count` m×k by k×n products fits the engine's scratch (and `matmulBatch` may be called). */
  fitsBatch(count: number, m: number, n: number, k: number): boolean {
    return 64 + count * this.entryBytes(m, n, k) <= MAX_BYTES;
  }

  /** out[e·m·n + i·n + j] = (A_e·B_e)[i, j] for every entry, entries split across threads (check `splitsBatch` or `fitsBatch` first). */
  matmulBatch(m: number, n: number, k: number, as: readonly GemmOperand[], bs: readonly GemmOperand[], out: Float32Array): void {
    const mPad = roundUp(m, this.tile.mr);
    const nPad = roundUp(n, this.tile.nr);
    const stride = this.entryBytes(m, n, k);
    const base = 64;
    const count = as.length;
    const mem = this.reserve(base + count * stride);
    for (let e = 0; e < count; e++) {
      const pa = (base + e * stride) >> 2;
      const pb = pa + mPad * k;
      const pc = pb + nPad * k;
      this.packA(as[e]!, m, k, mPad, pa);
      this.packB(bs[e]!, n, k, nPad, pb);
      if (k === 0) mem.fill(0, pc, pc + mPad * nPad);
    }
    const pool = this.pool(Infinity, count);
    if (pool) pool.run('entries', [base, stride, 0, mPad, nPad, k], count, (s, e) => this.batchFn(base, stride, s, e, mPad, nPad, k));
    else this.batchFn(base, stride, 0, count, mPad, nPad, k); // no workers here (a browser): every entry on this thread
    for (let e = 0; e < count; e++) {
      const c = ((base + e * stride) >> 2) + (mPad + nPad) * k;
      if (n === nPad) out.set(mem.subarray(c, c + m * n), e * m * n);
      else for (let i = 0; i < m; i++) out.set(mem.subarray(c + i * nPad, c + i * nPad + n), e * m * n + i * n);
    }
  }

  /**
   * The shared memory as f32, grown to at least `bytes` (from byte 64 on, callers lay out their own
   * operands there until their next call into the engine; `bytes` at most SCRATCH_END, where the shared
   * elementwise module's constants and then the arena begin). For the attention heads task.
   */
  sharedF32(bytes: number): Float32Array {
    return this.reserve(bytes);
  }

  /**
   * Runs attention units [0, count) of the op described by the header at byte `header` of the shared
   * memory (wasm/attention-task.ts), split across the threads when `threaded` and there are workers,
   * else all on the calling thread.
   */
  runAttention(header: number, count: number, threaded: boolean): void {
    const pool = threaded ? this.pool(Infinity, count) : null;
    if (pool) pool.runAttention(header, count, (s, e) => attentionHeadsTask(this.exports, this.memory.buffer, header, s, e, 0));
    else attentionHeadsTask(this.exports, this.memory.buffer, header, 0, count, 0);
  }

  /** The worker pool when this product is worth splitting, started on first use (and once its workers run). */
  private pool(work: number, slivers: number): GemmWorkers | null {
    if (this.requestedThreads < 2 || work < this.threadMinWork || slivers < 2) return null;
    const workers = this.startWorkers();
    return workers.threads > 1 && workers.usable ? workers : null;
  }

  /** Starts the worker threads now (normally the first large product does). */
  startWorkers(): GemmWorkers {
    return (this.workers ??= new GemmWorkers(this.module, this.memory, this.requestedThreads));
  }

  /** Resolves with the threads large products use once every worker has started (in a browser worker they start asynchronously). */
  async whenReady(): Promise<number> {
    if (this.requestedThreads < 2) return 1;
    const workers = this.startWorkers();
    await workers.ready;
    return workers.usable ? workers.threads : 1;
  }

  /** Slices each thread has run (index 0: the calling thread; empty before workers start). */
  jobsPerThread(): number[] {
    return this.workers?.jobsPerThread() ?? [];
  }

  /** Packs A at float index `at`: f32 values as they are, f16/bf16 words through their values' table. */
  private packA(a: GemmOperand, m: number, k: number, mPad: number, at: number): void {
    packA(a, m, k, mPad, this.tile, this.f32, at, a.element === undefined || a.element === 'f32' ? null : halfValues(a.element));
  }

  /** Packs B at float index `at` (see packA). */
  private packB(b: GemmOperand, n: number, k: number, nPad: number, at: number): void {
    packB(b, n, k, nPad, this.tile, this.f32, at, b.element === undefined || b.element === 'f32' ? null : halfValues(b.element));
  }

  /** Stops the worker threads (the engine still works, single-threaded, until they restart). */
  close(): void {
    this.workers?.close();
    this.workers = null;
  }
}

/**
 * Packs A (m×k) into depth blocks of MR-row slivers, kc×MR each, zero rows past m. With `table`, A's
 * data are f16/bf16 words and each element is its table entry (the loops are kept apart so the f32
 * one stays monomorphic).
 */
function packA(a: MatrixOperand, m: number, k: number, mPad: number, { mr: MR, kc: KC }: GemmTile, dst: Float32Array, at: number, table: Float32Array | null): void {
  const { data, offset, rowStride: rs, colStride: cs } = a;
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = Math.min(KC, k - k0);
    const block = at + k0 * mPad;
    for (let i = 0; i < mPad; i += MR) {
      const sliver = block + i * kc;
      for (let r = 0; r < MR; r++) {
        let d = sliver + r;
        if (i + r >= m) {
          for (let p = 0; p < kc; p++, d += MR) dst[d] = 0;
          continue;
        }
        // Along one row of A: contiguous reads when A is row-major, and each write lands MR apart.
        const s0 = offset + (i + r) * rs + k0 * cs;
        if (table) for (let p = 0, s = s0; p < kc; p++, d += MR, s += cs) dst[d] = table[data[s]!]!;
        else for (let p = 0, s = s0; p < kc; p++, d += MR, s += cs) dst[d] = data[s]!;
      }
    }
  }
}

/** Packs B (k×n) into depth blocks of NR-column slivers, kc×NR each, zero columns past n (`table` as in packA). */
function packB(b: MatrixOperand, n: number, k: number, nPad: number, { nr: NR, kc: KC }: GemmTile, dst: Float32Array, at: number, table: Float32Array | null): void {
  const { data, offset, rowStride: rs, colStride: cs } = b;
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = Math.min(KC, k - k0);
    const block = at + k0 * nPad;
    for (let j = 0; j < nPad; j += NR) {
      const sliver = block + j * kc;
      const cols = Math.min(NR, n - j);
      if (NR === 8 && cols === NR && cs === 1 && !table) {
        // Row-major B: each depth row of the sliver is 8 contiguous floats.
        for (let p = 0, s = offset + k0 * rs + j, d = sliver; p < kc; p++, s += rs, d += NR) {
          dst[d] = data[s]!; dst[d + 1] = data[s + 1]!; dst[d + 2] = data[s + 2]!; dst[d + 3] = data[s + 3]!;
          dst[d + 4] = data[s + 4]!; dst[d + 5] = data[s + 5]!; dst[d + 6] = data[s + 6]!; dst[d + 7] = data[s + 7]!;
        }
        continue;
      }
      // Any other layout (B = W.T is the common one): walk each column of B down the depth.
      for (let c = 0; c < NR; c++) {
        let d = sliver + c;
        if (c >= cols) {
          for (let p = 0; p < kc; p++, d += NR) dst[d] = 0;
          continue;
        }
        const s0 = offset + k0 * rs + (j + c) * cs;
        if (table) for (let p = 0, s = s0; p < kc; p++, d += NR, s += rs) dst[d] = table[data[s]!]!;
        else for (let p = 0, s = s0; p < kc; p++, d += NR, s += rs) dst[d] = data[s]!;
      }
    }
  }
}
