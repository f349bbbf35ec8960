// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011): element i of a draw is a pure
// function of (seed, counter + i), so every backend, in any order and in parallel, draws the same
// numbers for the same seed, and a resumed run continues the sequence from a saved counter.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two u32 values. */
function mulhi(a: number, b: number): number {
  const aHi = a >>> 16;
  const aLo = a & 0xffff;
  const bHi = b >>> 16;
  const bLo = b & 0xffff;
  const lo = aLo * bLo;
  const mid1 = aHi * bLo;
  const mid2 = aLo * bHi;
  const carry = ((lo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (aHi * bHi + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}

/** Philox4x32-10 of counter (c0, c1, 0, 0) under key (k0, k1); writes four u32 words into `out`. */
export function philox(c0: number, c1: number, k0: number, k1: number, out: Uint32Array): void {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = 0;
  let x3 = 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, x0);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2);
    const lo1 = Math.imul(M1, x2) >>> 0;
    const y0 = (hi1 ^ x1 ^ key0) >>> 0;
    const y1 = lo1;
    const y2 = (hi0 ^ x3 ^ key1) >>> 0;
    const y3 = lo0;
    x0 = y0;
    x1 = y1;
    x2 = y2;
    x3 = y3;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

/** Which distribution a random op draws from. */
export type RandomKind = 'uniform' | 'normal' | 'int';

/** The attributes every random op carries: where in the stream it draws. */
export interface RandomStream {
  /** The 53-bit seed split into two u32 key words. */
  readonly seed: number;
  /** Index of the first element's counter. */
  readonly counter: number;
}

const TWO_32 = 4294967296;
const scratch = new Uint32Array(4);

/** The four Philox words for element `i` of a stream (reference implementation for every backend). */
export function streamWords(stream: RandomStream, i: number, out: Uint32Array = scratch): Uint32Array {
  const c = stream.counter + i;
  philox(c % TWO_32, Math.floor(c / TWO_32), stream.seed % TWO_32, Math.floor(stream.seed / TWO_32), out);
  return out;
}

/** Uniform in [0, 1) from one word: 24 random bits, exact in f32. */
export function wordToUniform(w: number): number {
  return (w >>> 8) * 5.960464477539063e-8; // 2^-24
}

/** A standard normal from two words (Box-Muller, first output). */
export function wordsToNormal(w0: number, w1: number): number {
  const u1 = ((w0 >>> 8) + 1) * 5.960464477539063e-8; // (0, 1]: log is finite
  const u2 = (w1 >>> 8) * 5.960464477539063e-8;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** An integer in [low, high) from one word. */
export function wordToInt(w: number, low: number, high: number): number {
  return low + Math.floor((w / TWO_32) * (high - low));
}

/** A seeded source of stream positions. Each draw advances the counter by the number of elements drawn. */
export class Generator {
  #seed: number;
  #counter = 0;

  constructor(seed = 0) {
    this.#seed = Generator.checkSeed(seed);
  }

  private static checkSeed(seed: number): number {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`Generator: seed must be a non-negative safe integer (got ${seed})`);
    }
    return seed;
  }

  /** Restarts the sequence from a seed. */
  manualSeed(seed: number): this {
    this.#seed = Generator.checkSeed(seed);
    this.#counter = 0;
    return this;
  }

  /** Reserves `n` consecutive counters and returns the stream that covers them. */
  next(n: number): RandomStream {
    const stream = { seed: this.#seed, counter: this.#counter };
    this.#counter += n;
    return stream;
  }

  /** Where the sequence stands, for checkpoints. */
  getState(): { seed: number; counter: number } {
    return { seed: this.#seed, counter: this.#counter };
  }

  /** Continues a saved sequence exactly. */
  setState(state: { seed: number; counter: number }): this {
    this.#seed = Generator.checkSeed(state.seed);
    this.#counter = state.counter;
    return this;
  }
}

/** The process-wide default generator (seed 0 until `manualSeed`). */
export const defaultGenerator = new Generator(0);

/** Seeds the default generator, like `torch.manual_seed`. */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}
