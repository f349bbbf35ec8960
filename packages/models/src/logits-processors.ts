// Next-token selection on the host, over one row of last-position logits, with transformers'
// semantics and order: repetition penalty, then temperature, top-k, top-p, then sampling or argmax.
// Rows are a few thousand to a few hundred thousand floats read back once per step, so plain loops
// are cheap next to the forward pass, and sampling stays identical on every backend.
import { streamWords, wordToUniform, type Generator } from '@tessera/tensor';

/** HF's RepetitionPenaltyLogitsProcessor: logits of tokens already present are divided by `penalty` when positive, multiplied when negative. */
export function applyRepetitionPenalty(scores: Float32Array, present: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  const seen = new Set<number>();
  for (const id of present) {
    if (seen.has(id) || id < 0 || id >= scores.length) continue;
    seen.add(id);
    const s = scores[id]!;
    scores[id] = s < 0 ? s * penalty : s / penalty;
  }
}

/** HF's TemperatureLogitsWarper: divides every logit by the temperature. */
export function applyTemperature(scores: Float32Array, temperature: number): void {
  if (temperature === 1) return;
  for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! / temperature;
}

/** HF's TopKLogitsWarper: logits below the k-th largest become -Infinity (ties with it stay). */
export function applyTopK(scores: Float32Array, k: number): void {
  if (k <= 0 || k >= scores.length) return;
  const kth = Float32Array.from(scores).sort().reverse()[k - 1]!;
  for (let i = 0; i < scores.length; i++) if (scores[i]! < kth) scores[i] = -Infinity;
}

/**
 * HF's TopPLogitsWarper: sorts ascending, and drops the tokens whose cumulative probability stays
 * at or below 1 - p (the least likely ones), always keeping the most likely token.
 */
export function applyTopP(scores: Float32Array, p: number): void {
  if (p >= 1) return;
  const order = Array.from(scores.keys()).sort((a, b) => scores[a]! - scores[b]! || a - b);
  const probs = softmaxOf(scores);
  let cumulative = 0;
  for (let r = 0; r < order.length - 1; r++) {
    const id = order[r]!;
    cumulative += probs[id]!;
    if (cumulative <= 1 - p) scores[id] = -Infinity;
  }
}

/** Probabilities of logits (f64 accumulation; -Infinity gives 0). */
export function softmaxOf(scores: Float32Array): Float64Array {
  let max = -Infinity;
  for (const s of scores) if (s > max) max = s;
  const out = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const e = Math.exp(scores[i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}

/** The index of the largest logit (the first one on ties, as torch.argmax). */
export function argmaxOf(scores: Float32Array): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}

/** Draws a token from softmax(scores) with one uniform number from the generator (inverse CDF in token order). */
export function sampleFrom(scores: Float32Array, generator: Generator): number {
  const probs = softmaxOf(scores);
  const u = wordToUniform(streamWords(generator.next(1), 0)[0]!);
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! === 0) continue;
    cumulative += probs[i]!;
    last = i;
    if (u < cumulative) return i;
  }
  return last; // rounding left u above the total: the last token with any mass
}

/** How the next token is chosen. */
export interface SamplingOptions {
  /** Sample from the distribution (true) or take the argmax (false, default: greedy). */
  doSample?: boolean;
  /** Divides logits before sampling (default 1); must be > 0. */
  temperature?: number;
  /** Keep only the k most likely tokens (default 0: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (default 1: all). */
  topP?: number;
  /** > 1 discourages tokens already in the sequence (default 1: off). */
  repetitionPenalty?: number;
}

/** Checks sampling options, naming the bad one and its valid range. */
export function checkSamplingOptions(o: SamplingOptions): void {
  const t = o.temperature ?? 1;
  if (!(t > 0) || !Number.isFinite(t)) throw new RangeError(`generate: temperature must be a positive number, got ${t}; use doSample: false for greedy decoding`);
  const k = o.topK ?? 0;
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`generate: topK must be a non-negative integer (0 = off), got ${k}`);
  const p = o.topP ?? 1;
  if (!(p > 0 && p <= 1)) throw new RangeError(`generate: topP must be in (0, 1], got ${p}`);
  const r = o.repetitionPenalty ?? 1;
  if (!(r > 0) || !Number.isFinite(r)) throw new RangeError(`generate: repetitionPenalty must be a positive number (1 = off), got ${r}`);
}

/** Picks the next token from one row of logits (modified in place) given the tokens already present. */
export function selectToken(scores: Float32Array, present: Iterable<number>, o: SamplingOptions, generator: Generator): number {
  applyRepetitionPenalty(scores, present, o.repetitionPenalty ?? 1);
  if (!o.doSample) return argmaxOf(scores);
  applyTemperature(scores, o.temperature ?? 1);
  applyTopK(scores, o.topK ?? 0);
  applyTopP(scores, o.topP ?? 1);
  return sampleFrom(scores, generator);
}
