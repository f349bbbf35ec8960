import { AddedVocabulary, type AddedToken } from './added-tokens.js';
import { ByteLevelWords } from './byte-level-words.js';
import { applyChatTemplate, type ChatMessage, type ChatTemplateOptions, type ChatTemplateResult } from './chat-template.js';
import type { Decoder } from './decoders/decoder.js';
import { decoderFromJSON } from './decoders/decoder-from-json.js';
import { appendEncoding, emptyEncoding, type Encoding } from './encoding.js';
import { Bpe } from './models/bpe.js';
import type { MergeDropout, Model } from './models/model.js';
import { mulberry32 } from './mulberry32.js';
import { modelFromJSON } from './models/model-from-json.js';
import type { Normalizer } from './normalizers/normalizer.js';
import { normalizerFromJSON } from './normalizers/normalizer-from-json.js';
import { codePointConverter } from './offsets.js';
import type { PostProcessor } from './post-processors/post-processor.js';
import { postProcessorFromJSON } from './post-processors/post-processor-from-json.js';
import type { PreTokenizer } from './pre-tokenizers/pre-tokenizer.js';
import { preTokenizerFromJSON } from './pre-tokenizers/pre-tokenizer-from-json.js';
import { specialTokenText, type TokenizerConfig } from './tokenizer-config.js';
import { scanTokenizerJson, type ScannedTokenizerJSON } from './tokenizer-json-text.js';
import { padEncoding, paddingFromJSON, roundUpTo, type PaddingParams } from './padding.js';
import { truncateEncodings, truncationFromJSON, type TruncationParams } from './truncation.js';
import { wellFormed } from './well-formed.js';

/** Options of `encode`. */
export interface EncodeOptions {
  /** Add the post-processor's special tokens (BOS, [CLS]...). Default true. */
  addSpecialTokens?: boolean;
  /** A second text, for pair inputs. */
  pair?: string | null;
  /** Unit of `offsets`: 'codePoints' (default, as the Rust library) or 'utf16' (JS string indices). */
  offsetUnit?: 'codePoints' | 'utf16';
  /**
   * BPE dropout (subword regularization, for training data): each merge is skipped with
   * probability `rate` (default: the file's `model.dropout`), drawn from a generator seeded with
   * `seed`, so a run is reproducible. Without this option encoding is dropout-free whatever the
   * file says, which is what evaluation and inference want. `encodeBatch` uses seed + index.
   */
  bpeDropout?: { seed: number; rate?: number };
}

/** Options of `encodeBatch`. */
export interface EncodeBatchOptions extends Omit<EncodeOptions, 'pair'> {
  /** true/'longest': pad to the longest; 'max_length': pad to maxLength; false: no padding; default: tokenizer.json's `padding`. */
  padding?: boolean | 'longest' | 'max_length';
  /** Cut every encoding to maxLength (special tokens included); default: tokenizer.json's `truncation`. */
  truncation?: boolean;
  maxLength?: number;
  /** Which end truncation removes from; default: tokenizer_config.json's truncation_side, else 'right'. */
  truncationSide?: 'left' | 'right';
  paddingSide?: 'left' | 'right';
  padToMultipleOf?: number;
}

/** Options of `decode`. */
export interface DecodeOptions {
  skipSpecialTokens?: boolean;
  /** transformers' clean-up of spaces before punctuation; default from tokenizer_config.json. */
  cleanUpTokenizationSpaces?: boolean;
}

/** The object form of a tokenizer.json file. */
export interface TokenizerJSON {
  version?: string;
  truncation?: unknown;
  padding?: unknown;
  added_tokens?: unknown[];
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  model: unknown;
  post_processor?: unknown;
  decoder?: unknown;
}

/** Pieces a Tokenizer is made of. */
export interface TokenizerParts {
  normalizer: Normalizer | null;
  preTokenizer: PreTokenizer | null;
  model: Model;
  postProcessor: PostProcessor | null;
  decoder: Decoder | null;
  addedTokens: AddedToken[];
  config?: TokenizerConfig;
  extra?: { truncation?: unknown; padding?: unknown; version?: string };
}

function addedTokensFromJSON(v: unknown, model: Model): AddedToken[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`added_tokens: expected an array of { id, content, ... } objects, got ${JSON.stringify(v)?.slice(0, 100)}`);
  return v.map((t, i) => {
    const o = t as Record<string, unknown>;
    if (!o || typeof o.content !== 'string') throw new Error(`added_tokens[${i}].content: expected a string, got ${JSON.stringify(o?.content)}`);
    if (typeof o.id !== 'number') throw new Error(`added_tokens[${i}].id: expected an integer id, got ${JSON.stringify(o.id)}`);
    // Rust re-derives the id: the model's own id wins when the token is in its vocabulary.
    const id = model.tokenToId(o.content) ?? o.id;
    const special = o.special === true;
    return { id, content: o.content, singleWord: o.single_word === true, lstrip: o.lstrip === true, rstrip: o.rstrip === true, normalized: typeof o.normalized === 'boolean' ? o.normalized : !special, special };
  });
}

/** transformers' `clean_up_tokenization`. */
export function cleanUpTokenization(s: string): string {
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** A Hugging Face tokenizer.json pipeline: normalizer → pre-tokenizer → model → post-processor, and a decoder. */
export class Tokenizer {
  readonly normalizer: Normalizer | null;
  readonly preTokenizer: PreTokenizer | null;
  readonly model: Model;
  readonly postProcessor: PostProcessor | null;
  readonly decoder: Decoder | null;
  readonly addedVocabulary: AddedVocabulary;
  readonly config: TokenizerConfig;
  private readonly extra: { truncation?: unknown; padding?: unknown; version?: string };
  private readonly byteLevelWords: ByteLevelWords | null;
  /** tokenizer.json's `truncation` and `padding`, applied by encode as the Rust library does. */
  private readonly truncation: TruncationParams | null;
  private readonly padding: PaddingParams | null;

  constructor(parts: TokenizerParts) {
    this.normalizer = parts.normalizer;
    this.preTokenizer = parts.preTokenizer;
    this.model = parts.model;
    this.postProcessor = parts.postProcessor;
    this.decoder = parts.decoder;
    this.addedVocabulary = new AddedVocabulary(parts.addedTokens, parts.normalizer);
    this.config = parts.config ?? {};
    this.extra = parts.extra ?? {};
    this.byteLevelWords = ByteLevelWords.detect(parts.normalizer, parts.preTokenizer, parts.model);
    this.truncation = truncationFromJSON(this.extra.truncation);
    this.padding = paddingFromJSON(this.extra.padding);
  }

  /** Builds a tokenizer from tokenizer.json (object or text) and optionally tokenizer_config.json. */
  static fromJSON(tokenizerJson: TokenizerJSON | string, tokenizerConfig?: TokenizerConfig | string | null): Tokenizer {
    let j: TokenizerJSON;
    let scanned: ScannedTokenizerJSON | null = null;
    try {
      if (typeof tokenizerJson === 'string') {
        scanned = scanTokenizerJson(tokenizerJson);
        j = (scanned ? scanned.json : JSON.parse(tokenizerJson)) as TokenizerJSON;
      } else j = tokenizerJson;
    } catch (err) {
      throw new Error(`tokenizer.json: not valid JSON (${(err as Error).message}); pass the file's text or its parsed object`);
    }
    if (!j || typeof j !== 'object') throw new Error(`tokenizer.json: expected an object with a "model" field, got ${typeof j}`);
    if (!('model' in j)) throw new Error('tokenizer.json: missing field "model"; expected { "type": "BPE" | "WordPiece" | "Unigram" | "WordLevel", "vocab": ... }');
    const config = typeof tokenizerConfig === 'string' ? (JSON.parse(tokenizerConfig) as TokenizerConfig) : (tokenizerConfig ?? undefined);
    const model = modelFromJSON(j.model, 'model', scanned ? { vocab: scanned.vocab, merges: scanned.merges } : undefined);
    return new Tokenizer({
      normalizer: normalizerFromJSON(j.normalizer),
      preTokenizer: preTokenizerFromJSON(j.pre_tokenizer),
      model,
      postProcessor: postProcessorFromJSON(j.post_processor),
      decoder: decoderFromJSON(j.decoder),
      addedTokens: addedTokensFromJSON(j.added_tokens, model),
      config,
      extra: { truncation: j.truncation, padding: j.padding, version: j.version },
    });
  }

  /** Loads tokenizer.json (or a model folder holding one) from disk (Node), with tokenizer_config.json and special_tokens_map.json beside it when present. */
  static async fromFile(pathOrFolder: string, configPath?: string): Promise<Tokenizer> {
    const fs = await import('node:fs/promises');
    const nodePath = await import('node:path');
    const isFolder = await fs.stat(pathOrFolder).then((st) => st.isDirectory(), () => false);
    const path = isFolder ? nodePath.join(pathOrFolder, 'tokenizer.json') : pathOrFolder;
    let text: string;
    try {
      text = await fs.readFile(path, 'utf8');
    } catch (err) {
      throw new Error(`fromFile: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pass a tokenizer.json file or a model folder that holds one`);
    }
    const dir = nodePath.dirname(path);
    const readJson = async (p: string): Promise<TokenizerConfig | null> => {
      try {
        return JSON.parse(await fs.readFile(p, 'utf8')) as TokenizerConfig;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new Error(`${p}: cannot read tokenizer config (${(err as Error).message}); fix or remove the file`);
      }
    };
    const specialMap = await readJson(nodePath.join(dir, 'special_tokens_map.json'));
    const config = await readJson(configPath ?? nodePath.join(dir, 'tokenizer_config.json'));
    return Tokenizer.fromJSON(text, specialMap || config ? { ...(specialMap ?? {}), ...(config ?? {}) } : null);
  }

  /** Fetches tokenizer.json (and optionally tokenizer_config.json) from URLs (browser or Node). */
  static async fromURL(url: string | URL, configUrl?: string | URL): Promise<Tokenizer> {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`fromURL: GET ${String(url)} answered ${res.status}; check the address`);
    let config: TokenizerConfig | null = null;
    if (configUrl) {
      const c = await fetch(configUrl);
      if (!c.ok) throw new Error(`fromURL: GET ${String(configUrl)} answered ${c.status}; check the address`);
      config = (await c.json()) as TokenizerConfig;
    }
    return Tokenizer.fromJSON(await res.text(), config);
  }

  /** Reads tokenizer.json (and optionally tokenizer_config.json) from Blobs/Files (browser). */
  static async fromBlob(blob: Blob, configBlob?: Blob): Promise<Tokenizer> {
    return Tokenizer.fromJSON(await blob.text(), configBlob ? await configBlob.text() : null);
  }

  /** The tokenizer.json object of this tokenizer. */
  toJSON(): Record<string, unknown> {
    return {
      version: this.extra.version ?? '1.0',
      truncation: this.extra.truncation ?? null,
      padding: this.extra.padding ?? null,
      added_tokens: [...this.addedVocabulary.tokens]
        .sort((a, b) => a.id - b.id)
        .map((t) => ({ id: t.id, content: t.content, single_word: t.singleWord, lstrip: t.lstrip, rstrip: t.rstrip, normalized: t.normalized, special: t.special })),
      normalizer: this.normalizer?.toJSON() ?? null,
      pre_tokenizer: this.preTokenizer?.toJSON() ?? null,
      model: this.model.toJSON(),
      post_processor: this.postProcessor?.toJSON() ?? null,
      decoder: this.decoder?.toJSON() ?? null,
    };
  }

  /** Vocabulary size including added tokens. */
  get vocabSize(): number {
    let n = this.model.vocabSize;
    for (const t of this.addedVocabulary.tokens) if (this.model.tokenToId(t.content) === undefined) n++;
    return n;
  }

  /** Id of a token (added tokens first, then the model vocabulary). */
  tokenToId(token: string): number | undefined {
    return this.addedVocabulary.byText(token)?.id ?? this.model.tokenToId(token);
  }

  /** Token string of an id (added tokens first, then the model vocabulary). */
  idToToken(id: number): string | undefined {
    return this.addedVocabulary.byTokenId(id)?.content ?? this.model.idToToken(id);
  }

  /** The whole vocabulary, added tokens included. */
  getVocab(): Map<string, number> {
    const v = this.model.getVocab();
    for (const t of this.addedVocabulary.tokens) v.set(t.content, t.id);
    return v;
  }

  /** A special token of tokenizer_config.json ('bos', 'eos', 'unk', 'pad') as text, if set. */
  specialToken(name: 'bos' | 'eos' | 'unk' | 'pad'): string | null {
    return specialTokenText(this.config[`${name}_token`]);
  }

  /** Encodes one text (or a pair) into ids, tokens, offsets and masks. */
  encode(text: string, options: EncodeOptions = {}): Encoding {
    // tokenizer.json's own truncation and padding apply, as in the Rust library's encode.
    const e = this.encodeInternal(text, options, this.truncation);
    const p = this.padding;
    if (p) padEncoding(e, roundUpTo(p.length === 'BatchLongest' ? e.ids.length : p.length, p.padToMultipleOf), p.padId, p.padToken, p.direction === 'Left' ? 'left' : 'right', p.padTypeId);
    return e;
  }

  private encodeInternal(text: string, options: EncodeOptions, truncation: TruncationParams | null): Encoding {
    const addSpecial = options.addSpecialTokens ?? true;
    const dropout = this.dropoutFor(options.bpeDropout);
    const a = this.encodeSequence(text, 0, options.offsetUnit ?? 'codePoints', dropout);
    const b = options.pair !== undefined && options.pair !== null ? this.encodeSequence(options.pair, 1, options.offsetUnit ?? 'codePoints', dropout) : null;
    if (truncation !== null) {
      const budget = truncation.maxLength - (addSpecial && this.postProcessor ? this.postProcessor.addedTokens(b !== null) : 0);
      truncateEncodings(a, b, Math.max(0, budget), truncation.strategy, truncation.direction);
    }
    if (!this.postProcessor) {
      if (!b) return a;
      const out = emptyEncoding();
      appendEncoding(out, a);
      appendEncoding(out, b);
      return out;
    }
    return this.postProcessor.process(a, b, addSpecial);
  }

  private dropoutFor(o: EncodeOptions['bpeDropout']): MergeDropout | null {
    if (!o) return null;
    if (!(this.model instanceof Bpe)) throw new Error(`encode: bpeDropout applies to BPE models, this tokenizer's model is ${String(this.model.toJSON().type)}; remove the option`);
    const rate = o.rate ?? this.model.options.dropout ?? null;
    if (rate === null || !(rate >= 0 && rate <= 1)) throw new Error(`encode: bpeDropout.rate must be a probability in [0, 1] (the file's model.dropout is ${JSON.stringify(this.model.options.dropout ?? null)}), got ${JSON.stringify(o.rate)}; pass { seed, rate }`);
    if (typeof o.seed !== 'number') throw new Error(`encode: bpeDropout.seed must be a number, got ${JSON.stringify(o.seed)}`);
    return rate > 0 ? { rate, random: mulberry32(o.seed) } : null;
  }

  /** Encodes one sequence without post-processing. */
  private encodeSequence(input: string, sequenceId: number, unit: 'codePoints' | 'utf16', dropout: MergeDropout | null = null): Encoding {
    // The Rust library only sees valid UTF-8: a lone surrogate reaches it as U+FFFD.
    const text = wellFormed(input);
    const enc = emptyEncoding();
    const toCp = unit === 'codePoints' ? codePointConverter(text) : null;
    const pieces = this.addedVocabulary.extractAndNormalize(text, this.normalizer);
    let word = 0;
    const push = (id: number, token: string, s: number, e: number, w: number): void => {
      enc.ids.push(id);
      enc.tokens.push(token);
      enc.offsets.push(toCp ? [toCp(s), toCp(e)] : [s, e]);
      enc.attentionMask.push(1);
      enc.specialTokensMask.push(0);
      enc.typeIds.push(sequenceId);
      enc.wordIds.push(w);
      enc.sequenceIds.push(sequenceId);
    };
    for (const piece of pieces) {
      if (piece.token) {
        const [s, e] = piece.text.originalRange(0, piece.text.normalized.length);
        push(piece.token.id, piece.text.normalized, s, e, word++);
        continue;
      }
      if (!dropout && this.byteLevelWords?.accepts(piece.text)) {
        word = this.byteLevelWords.encode(piece.text, word, (id, s, e, w) => push(id, this.model.idToToken(id)!, s, e, w));
        continue;
      }
      const words = this.preTokenizer ? this.preTokenizer.split(piece.text) : [piece.text];
      for (const w of words) {
        if (w.normalized.length === 0) continue;
        const { ids, offsets, values } = this.model.tokenize(w.normalized, dropout);
        for (let k = 0; k < ids.length; k++) {
          const id = ids[k]!;
          const [s, e] = w.originalRange(offsets[2 * k]!, offsets[2 * k + 1]!);
          push(id, values?.[k] ?? this.model.idToToken(id) ?? this.idToToken(id) ?? '', s, e, word);
        }
        word++;
      }
    }
    return enc;
  }

  /** Encodes many texts, with optional truncation and padding (defaults: tokenizer.json's own). */
  encodeBatch(texts: string[], options: EncodeBatchOptions = {}): Encoding[] {
    const maxLength = options.maxLength ?? null;
    if (options.truncation && maxLength === null) throw new Error('encodeBatch: truncation needs maxLength; pass { truncation: true, maxLength: n }');
    const side = options.truncationSide ?? (this.config.truncation_side as 'left' | 'right' | undefined) ?? (this.truncation?.direction === 'Left' ? 'left' : 'right');
    const truncation: TruncationParams | null =
      options.truncation === undefined ? this.truncation : options.truncation ? { maxLength: maxLength!, strategy: this.truncation?.strategy ?? 'LongestFirst', direction: side === 'left' ? 'Left' : 'Right' } : null;
    const encs = texts.map((t, i) => this.encodeInternal(t, options.bpeDropout ? { ...options, bpeDropout: { ...options.bpeDropout, seed: options.bpeDropout.seed + i } } : options, truncation));
    const filePad = this.padding;
    const padding = options.padding ?? (filePad ? (filePad.length === 'BatchLongest' ? 'longest' : 'max_length') : false);
    if (padding === false) return encs;
    const longest = encs.reduce((m, e) => Math.max(m, e.ids.length), 0);
    let target: number | null;
    const fromFile = options.padding === undefined && filePad !== null;
    if (padding === 'max_length') target = fromFile && filePad.length !== 'BatchLongest' ? filePad.length : maxLength;
    else target = longest;
    if (target === null) throw new Error("encodeBatch: padding 'max_length' needs maxLength; pass { padding: 'max_length', maxLength: n }");
    target = roundUpTo(target, options.padToMultipleOf ?? (options.padding === undefined ? filePad?.padToMultipleOf : null));
    // The file's padding brings its own pad token, as in Rust; otherwise tokenizer_config.json's.
    const padText = fromFile ? filePad.padToken : (this.specialToken('pad') ?? filePad?.padToken ?? null);
    const padId = fromFile ? filePad.padId : padText !== null ? (this.tokenToId(padText) ?? filePad?.padId) : undefined;
    if (padId === undefined || padText === null) throw new Error('encodeBatch: padding needs a pad token; set pad_token in tokenizer_config.json');
    const padSide = options.paddingSide ?? this.config.padding_side ?? (filePad?.direction === 'Left' ? 'left' : 'right');
    for (const e of encs) padEncoding(e, target, padId, padText, padSide, filePad?.padTypeId ?? 0);
    return encs;
  }

  /** Turns ids back into text. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skip = options.skipSpecialTokens ?? false;
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const t = this.idToToken(ids[i]!);
      if (t === undefined) continue;
      if (skip && this.addedVocabulary.isSpecial(t)) continue;
      tokens.push(t);
    }
    let text = this.decoder ? this.decoder.decodeChain(tokens).join('') : tokens.join(' ');
    const clean = options.cleanUpTokenizationSpaces ?? this.config.clean_up_tokenization_spaces ?? false;
    if (clean) text = cleanUpTokenization(text);
    return text;
  }

  /** Renders the chat template of tokenizer_config.json and reports the assistant spans. */
  applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions = {}): ChatTemplateResult {
    return applyChatTemplate(this, messages, options);
  }
}
