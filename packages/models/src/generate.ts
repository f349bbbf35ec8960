import { noGrad } from '@tessera/autograd';
import { KVCache } from '@tessera/nn';
import { Generator, isTensor, tensor, tidy, type Tensor } from '@tessera/tensor';
import type { Tokenizer } from '@tessera/tokenizers';
import { checkSamplingOptions, selectToken, type SamplingOptions } from './logits-processors.js';

/** What generation needs of a model: a forward pass with a KV cache, explicit positions and a padding mask. */
export interface CausalLM {
  readonly config: { eosTokenIds: number[]; padTokenId: number | null };
  readonly device: string;
  forward(
    inputIds: Tensor,
    opts: { attentionMask?: Tensor; cache?: KVCache; positionIds?: Tensor; logitsToKeep?: number },
  ): { logits: Tensor };
}

/** Options of `generate` and `generateStream`. */
export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to add per row (default 20). */
  maxNewTokens?: number;
  /** Token ids that end a row (default the config's eos_token_id; [] never stops early). */
  eosTokenId?: number | number[];
  /** Fills rows that finished while others run on (default pad_token_id, else the first EOS id, else 0). */
  padTokenId?: number;
  /** Stop a row once its generated text contains one of these (needs `tokenizer`). */
  stopStrings?: string[];
  /** Decodes text for stop strings, `text` in results and `textDelta` in events. */
  tokenizer?: Tokenizer;
  /** (B, T) 1 for tokens, 0 for padding: batches of different lengths are padded on the LEFT. */
  attentionMask?: Tensor | number[][];
  /** Seed for sampling when no generator is given (default 0). */
  seed?: number;
  generator?: Generator;
  /** Called with each new token as soon as it is chosen. */
  onToken?: (event: TokenEvent) => void;
}

/** One generated token of one row. */
export interface TokenEvent {
  row: number;
  /** 0 for the first new token of the row. */
  step: number;
  token: number;
  /** The text this token completes (with a tokenizer; '' while a multi-byte character is still partial). */
  textDelta?: string;
  /** Set on a row's last token. */
  finishReason?: FinishReason;
}

/** Why a row stopped: an EOS token, a stop string, or maxNewTokens. */
export type FinishReason = 'eos' | 'stop' | 'length';

/** What `generate` returns. */
export interface GenerateResult {
  /** New tokens per row (the EOS token or the token completing a stop string included, padding not). */
  tokens: number[][];
  finishReasons: FinishReason[];
  /** Decoded new tokens per row (with a tokenizer; special tokens skipped). */
  text?: string[];
}

function toRows(ids: Tensor | number[] | number[][], where: string): number[][] | Promise<number[][]> {
  if (isTensor(ids)) {
    if (ids.rank !== 2) throw new RangeError(`${where}: must be (B, T), got shape [${ids.shape.join(',')}]`);
    const [b, t] = ids.shape as [number, number];
    return ids.data().then((d) => Array.from({ length: b }, (_, i) => Array.from(d.subarray(i * t, (i + 1) * t), Number)));
  }
  if (ids.length === 0) throw new RangeError(`${where}: empty; pass at least one token`);
  return typeof ids[0] === 'number' ? [ids as number[]] : (ids as number[][]);
}

/** Checks the left-padded layout and returns, per row, where its real tokens start. */
function leftPadStarts(ids: number[][], mask: number[][]): number[] {
  const t = ids[0]!.length;
  if (ids.some((r) => r.length !== t)) throw new RangeError('generate: rows of inputIds differ in length; pad them on the left and pass attentionMask');
  if (mask.length !== ids.length || mask.some((r) => r.length !== t)) {
    throw new RangeError(`generate: attentionMask must have the shape of inputIds [${ids.length},${t}]`);
  }
  return mask.map((row, r) => {
    const start = row.indexOf(1);
    if (start < 0) throw new RangeError(`generate: row ${r} of attentionMask has no tokens (all 0)`);
    if (row.slice(start).some((m) => m !== 1)) {
      throw new RangeError(`generate: row ${r} of attentionMask is not left-padded (${JSON.stringify(row)}); pad batches on the left (tokenizer paddingSide: 'left')`);
    }
    return start;
  });
}

/** Incremental decoding: the text a new token adds, held back while it ends in a partial character. */
class TextTracker {
  #emitted = 0;
  constructor(readonly tokenizer: Tokenizer) {}
  full(tokens: number[]): string {
    return this.tokenizer.decode(tokens, { skipSpecialTokens: true });
  }
  delta(tokens: number[]): string {
    const text = this.full(tokens);
    if (text.endsWith('\uFFFD')) return '';
    const d = text.slice(this.#emitted);
    this.#emitted = text.length;
    return d;
  }
}

/**
 * Streams new tokens as they are chosen: greedy or sampled (temperature, top-k, top-p, repetition
 * penalty), with a KV cache, batched rows padded on the left, stopping at EOS ids and stop strings.
 * Runs without gradients; every step's tensors are freed, and the cache when the stream ends or
 * the consumer stops early.
 */
export async function* generateStream(model: CausalLM, inputIds: Tensor | number[] | number[][], opts: GenerateOptions = {}): AsyncGenerator<TokenEvent, GenerateResult> {
  checkSamplingOptions(opts);
  const maxNew = opts.maxNewTokens ?? 20;
  if (!Number.isInteger(maxNew) || maxNew < 0) throw new RangeError(`generate: maxNewTokens must be a non-negative integer, got ${maxNew}`);
  const stops = opts.stopStrings ?? [];
  if (stops.length && !opts.tokenizer) throw new Error('generate: stopStrings need a tokenizer to decode text; pass { tokenizer }');
  if (stops.some((s) => typeof s !== 'string' || s.length === 0)) throw new RangeError(`generate: stopStrings must be non-empty strings, got ${JSON.stringify(stops)}`);
  const eos = new Set(opts.eosTokenId === undefined ? model.config.eosTokenIds : [opts.eosTokenId].flat());
  const pad = opts.padTokenId ?? model.config.padTokenId ?? [...eos][0] ?? 0;
  const generator = opts.generator ?? new Generator(opts.seed ?? 0);

  const ids = await toRows(inputIds, 'generate: inputIds');
  const maskRows = opts.attentionMask ? await toRows(opts.attentionMask, 'generate: attentionMask') : ids.map((r) => r.map(() => 1));
  const starts = leftPadStarts(ids, maskRows);
  const b = ids.length;
  const t = ids[0]!.length;
  if (t === 0) throw new RangeError('generate: inputIds has no tokens; pass a prompt of at least one token');
  const padded = starts.some((s) => s > 0);
  const device = model.device;

  const present = ids.map((row, r) => new Set(row.slice(starts[r])));
  const out: number[][] = ids.map(() => []);
  const reasons: (FinishReason | null)[] = ids.map(() => null);
  const trackers = opts.tokenizer ? ids.map(() => new TextTracker(opts.tokenizer!)) : null;
  const mask = maskRows.map((r) => [...r]);
  // transformers' positions for a left-padded row: cumsum(mask) - 1, and 1 on padding.
  let positions = maskRows.map((row, r) => row.map((m, j) => (m ? j - starts[r]! : 1)));
  let feed = ids;
  const cache = new KVCache();
  try {
    for (let step = 0; step < maxNew && reasons.some((x) => x === null); step++) {
      const logits = noGrad(() =>
        tidy(() => {
          const n = feed[0]!.length;
          const input = tensor(feed.flat(), { shape: [b, n], dtype: 'i32', device });
          const positionIds = tensor(positions.flat(), { shape: [b, n], dtype: 'i32', device });
          const attentionMask = padded ? tensor(mask.flat(), { shape: [b, mask[0]!.length], dtype: 'i32', device }) : undefined;
          return model.forward(input, { attentionMask, cache, positionIds, logitsToKeep: 1 }).logits; // (B, 1, V)
        }),
      );
      let values: Float32Array;
      try {
        values = Float32Array.from(await logits.data());
      } finally {
        logits.dispose();
      }
      const v = values.length / b;
      const next: number[] = [];
      const events: TokenEvent[] = [];
      for (let r = 0; r < b; r++) {
        if (reasons[r] !== null) {
          next.push(pad);
          continue;
        }
        const token = selectToken(values.subarray(r * v, (r + 1) * v), present[r]!, opts, generator);
        next.push(token);
        out[r]!.push(token);
        present[r]!.add(token);
        const event: TokenEvent = { row: r, step, token };
        if (trackers) event.textDelta = trackers[r]!.delta(out[r]!);
        if (eos.has(token)) reasons[r] = 'eos';
        else if (stops.length && stops.some((s) => trackers![r]!.full(out[r]!).includes(s))) reasons[r] = 'stop';
        else if (out[r]!.length >= maxNew) reasons[r] = 'length';
        if (reasons[r] !== null) event.finishReason = reasons[r]!;
        events.push(event);
      }
      for (const e of events) {
        opts.onToken?.(e);
        yield e;
      }
      feed = next.map((tok) => [tok]);
      for (const row of mask) row.push(1);
      positions = positions.map((row) => [row[row.length - 1]! + 1]);
    }
  } finally {
    cache.dispose();
  }
  const result: GenerateResult = { tokens: out, finishReasons: reasons.map((x) => x ?? 'length') };
  if (trackers) result.text = trackers.map((tr, r) => tr.full(out[r]!));
  return result;
}

/** Generates up to maxNewTokens per row (see `generateStream` for the options); resolves with the new tokens per row. */
export async function generate(model: CausalLM, inputIds: Tensor | number[] | number[][], opts: GenerateOptions = {}): Promise<GenerateResult> {
  const stream = generateStream(model, inputIds, opts);
  for (;;) {
    const r = await stream.next();
    if (r.done) return r.value;
  }
}
