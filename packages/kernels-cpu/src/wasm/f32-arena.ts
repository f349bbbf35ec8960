// Large f32 result arrays that live inside the shared WebAssembly memory the gemm engines work on,
// so a product reads its operands where they are (their byte offset in the memory) and writes C
// straight into its result, instead of copying A and B in and C out on the calling thread.
//
// One shared memory per agent (thread or realm): `resultArray`/`takeF32` have no backend at hand, so
// every engine of the agent uses this one memory. Kernels run synchronously, so two engines never run
// at once; they all lay out their scratch (packed panels, C, row-task operands, the attention layout)
// in the low region [64, ARENA_BASE) and arena blocks live in [ARENA_BASE, ARENA_END). The region
// below ARENA_BASE is only reserved address space until scratch touches it: growing a shared memory
// commits no pages that are never written.
//
// A shared memory never detaches its buffer when it grows (the old SharedArrayBuffer keeps its length
// and its view of the same bytes; test/f32-arena.test.ts checks it in Node, and the WebAssembly JS API
// specifies it for browsers), so blocks handed out before a grow stay valid.
//
// Blocks come back through `arenaRelease` (Backend.free -> recycleF32, by identity: only the very
// arrays handed out here, never a view of one) or, for a block dropped without free (a kernel's
// temporary, a storage whose tensor was collected before @tessera/tensor's finalizer freed it), through
// a FinalizationRegistry on the block. Freed ranges are kept per size and reused by the next block of
// that size (a training step allocates the same sizes every step). When the region is used up (shapes
// that change from call to call, as in generation, leave ranges of sizes never asked for again), the
// free ranges are merged with their neighbours and a block is cut from the smallest that holds it;
// beyond that `arenaTake` returns null and the caller allocates a plain array (products copy, as before).

const PAGE = 65536;
/** Scratch of every engine lives below this byte; arena blocks above it. */
export const ARENA_BASE = 2 ** 30;
/**
 * Scratch of every engine ends at this byte. The three pages below ARENA_BASE belong to the shared
 * build of the elementwise module (wasm/elementwise-wat.ts), which reads and writes arena blocks in
 * place: its constant table (a data segment written when an instance is created), then a norm's weight
 * and bias rows (up to 16384 floats each) for the calling thread's layerNorm (wasm/row-tasks.ts).
 */
export const SCRATCH_END = ARENA_BASE - 3 * PAGE;
/** Byte offsets of the weight and bias rows in the shared elementwise module's slot (see SCRATCH_END). */
export const SHARED_ROW_SLOTS = { w: SCRATCH_END + PAGE, bias: SCRATCH_END + 2 * PAGE } as const;
/** Blocks end below this byte, so the gemm's i32 byte offsets (and `>> 2` in JS) never overflow. */
export const ARENA_END = 2 ** 31 - PAGE;
/** Arrays below this many elements stay plain: their copies are cheap, and the young generation frees them cheaply. */
export const ARENA_MIN_ELEMENTS = 16384;

/** A block's place in the memory. */
interface Block {
  /** Byte offset of its first element. */
  readonly byte: number;
  /** Floats it owns: its length plus slack for a gemm's padded rows (see `slackFloats`). */
  readonly floats: number;
}

let memory: WebAssembly.Memory | null = null;
/** The next unused byte of the arena region. */
let top = ARENA_BASE;
/** Live blocks (handed out, not yet released), by identity. */
const live = new WeakMap<Float32Array, Block>();
/** Released ranges by the floats they own, reused by the next block of that many floats. */
const freeRanges = new Map<number, Block[]>();
/** Where the arena region ends (ARENA_END, or lower for tests: configureArena's limitBytes). */
let end = ARENA_END;
let liveBytes = 0;
let freeBytes = 0;
/** No range was freed since the free ranges were last merged. */
let merged = false;
let enabled = true;
let minElements = ARENA_MIN_ELEMENTS;

/** Returns a collected block's range to the free ranges (it was never released). */
const collected = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<Block>((block) => {
      liveBytes -= 4 * block.floats;
      keepFree(block);
    })
  : null;

/**
 * Floats of slack past a block of `n` elements: a gemm writes C padded to its register tile's rows
 * (up to mr - 1 = 4 rows past m), so an m×n result of m >= 256 rows lands in place when the block has
 * n·4 <= n·m/64 floats to spare.
 */
const slackFloats = (n: number): number => Math.ceil(n / 64);

/**
 * The agent's shared memory (created on first call). Engines call this; until one has, `arenaTake`
 * hands out nothing, so a process that never multiplies on the gemm never reserves the memory.
 */
export function agentMemory(): WebAssembly.Memory {
  return (memory ??= new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true }));
}

/**
 * Turns arena allocation on or off for this agent, or changes the smallest array it takes (for A/B
 * measurements and tests, which set 0 to put small operands there; blocks already out stay valid).
 */
export function configureArena(opts: { readonly enabled?: boolean; readonly minElements?: number; readonly limitBytes?: number }): void {
  enabled = opts.enabled ?? enabled;
  minElements = opts.minElements ?? minElements;
  if (opts.limitBytes !== undefined) end = Math.min(ARENA_END, ARENA_BASE + opts.limitBytes);
}

/** An f32 array of `n` elements inside the shared memory (arbitrary contents), or null: too small, arena off or full, or no engine yet. */
export function arenaTake(n: number): Float32Array | null {
  if (!enabled || memory === null || n < minElements || n === 0) return null;
  // Whole 64-byte lines, so every block starts 64-byte aligned (the module's SIMD loads and stores).
  const floats = Math.ceil((n + slackFloats(n)) / 16) * 16;
  const block = takeFree(floats) ?? grown(memory, floats) ?? (mergeFree() ? (takeFree(floats) ?? grown(memory, floats) ?? cutFree(floats)) : null);
  if (block === null) return null;
  const a = new Float32Array(memory.buffer, block.byte, n);
  live.set(a, block);
  liveBytes += 4 * block.floats;
  collected?.register(a, block, a);
  return a;
}

/** A released range of exactly `floats`, or undefined. */
function takeFree(floats: number): Block | undefined {
  const block = freeRanges.get(floats)?.pop();
  if (block !== undefined) freeBytes -= 4 * block.floats;
  return block;
}

/** A new range at the top of the region (the memory grown to hold it), or undefined past the end. */
function grown(memory: WebAssembly.Memory, floats: number): Block | undefined {
  const next = top + 4 * floats;
  if (next > end) return undefined;
  const have = memory.buffer.byteLength;
  if (next > have) {
    try {
      memory.grow(Math.ceil((next - have) / PAGE));
    } catch {
      return undefined; // the engine could not reserve more: plain arrays from here on
    }
  }
  const block = { byte: top, floats };
  top = next;
  return block;
}

/**
 * Merges adjacent free ranges and gives a range that ends at the top back to the top; true when
 * anything is free. Skipped (an arena over its cap asks on every large result) until a range is freed.
 */
function mergeFree(): boolean {
  if (merged) return freeBytes > 0;
  merged = true;
  const all = [...freeRanges.values()].flat().sort((x, y) => x.byte - y.byte);
  if (all.length === 0) return false;
  freeRanges.clear();
  freeBytes = 0;
  const runs: Block[] = [];
  for (const b of all) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.byte + 4 * last.floats === b.byte) runs[runs.length - 1] = { byte: last.byte, floats: last.floats + b.floats };
    else runs.push(b);
  }
  const last = runs[runs.length - 1]!;
  if (last.byte + 4 * last.floats === top) {
    top = last.byte;
    runs.pop();
  }
  for (const b of runs) keepFree(b);
  merged = true;
  return true;
}

/** A block of `floats` cut from the front of the smallest free range that holds it (the rest stays free), or null. */
function cutFree(floats: number): Block | null {
  let best: Block | null = null;
  for (const [size, list] of freeRanges) if (size > floats && list.length > 0 && (best === null || size < best.floats)) best = list[list.length - 1]!;
  if (best === null) return null;
  freeRanges.get(best.floats)!.pop();
  freeBytes -= 4 * best.floats;
  keepFree({ byte: best.byte + 4 * floats, floats: best.floats - floats });
  return { byte: best.byte, floats };
}

/** Takes back a block `arenaTake` handed out (true), or ignores anything else, views of blocks included (false). */
export function arenaRelease(a: Float32Array): boolean {
  const block = live.get(a);
  if (block === undefined) return false;
  live.delete(a);
  collected?.unregister(a);
  liveBytes -= 4 * block.floats;
  keepFree(block);
  return true;
}

function keepFree(block: Block): void {
  merged = false;
  let list = freeRanges.get(block.floats);
  if (list === undefined) freeRanges.set(block.floats, (list = []));
  list.push(block);
  freeBytes += 4 * block.floats;
}

/**
 * Where a live block sits: its byte offset in the agent memory and the floats it owns (slack
 * included), or null for any other array (a plain array, a view of a block, a released block).
 */
export function arenaBlock(a: ArrayLike<number>): Block | null {
  return a instanceof Float32Array ? (live.get(a) ?? null) : null;
}

/** Bytes of live blocks, of released ranges waiting for reuse, and of the arena region used so far. */
export function arenaStats(): { liveBytes: number; freeBytes: number; usedBytes: number } {
  return { liveBytes, freeBytes, usedBytes: top - ARENA_BASE };
}
