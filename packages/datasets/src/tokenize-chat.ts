import type { ChatMessage, Tokenizer } from '@tessera/tokenizers';
import type { Dataset } from './dataset.js';
import { detectFormat } from './formats/detect-format.js';
import type { ExampleFormat } from './formats/example-formats.js';
import { toMessages } from './formats/to-messages.js';
import { eosText, renderInstructionTemplate, type InstructionTemplateName, type RenderedConversation } from './instruction-templates.js';
import { emptyTruncationReport, type TruncationReport } from './truncation-report.js';

/** The label of positions that take no loss (PyTorch's and Hugging Face's convention). */
export const IGNORE_INDEX = -100;

/** Options of chat-example tokenisation. */
export interface TokenizeChatOptions {
  /** 'model' (default): the tokenizer's own chat template; a named instruction template; or `{ chatTemplate }` Jinja text. */
  template?: 'model' | InstructionTemplateName | { chatTemplate: string };
  /** Train on every assistant turn (default) or only the last. */
  trainOn?: 'all-turns' | 'last-turn';
  /** Train on every token, prompts included. */
  trainOnInputs?: boolean;
  /** Longest tokenised example kept. */
  maxLength?: number;
  /** Over maxLength: cut the end (default), cut the start (keeps the answer, loses context), or drop the example. */
  truncation?: 'end' | 'start' | 'drop';
  /** Let the post-processor add BOS/EOS; default false for model templates (they write BOS themselves), true for named ones. */
  addSpecialTokens?: boolean;
  /** EOS text for named templates; default the tokenizer's eos_token. */
  eosToken?: string;
  /** Extra variables for the chat template (e.g. `enable_thinking`). */
  templateVariables?: Record<string, unknown>;
  /** Record format; default: detected per record. */
  recordFormat?: ExampleFormat;
  /** Keep the rendered text and token offsets on each example (for previews). */
  keepText?: boolean;
}

/** One tokenised training example: ids, labels (-100 where no loss is taken) and the attention mask. */
export interface TokenizedExample {
  inputIds: number[];
  labels: number[];
  attentionMask: number[];
  /** The rendered text and each token's UTF-16 [start, end) in it, with `keepText`. */
  text?: string;
  offsets?: Array<[number, number]>;
}

function render(tokenizer: Tokenizer, messages: ChatMessage[], o: TokenizeChatOptions): RenderedConversation {
  const t = o.template ?? 'model';
  if (typeof t === 'string' && t !== 'model') return renderInstructionTemplate(t, messages, eosText(tokenizer, o.eosToken));
  if (t === 'model' && !tokenizer.config.chat_template) {
    throw new Error("tokenizeChat: this tokenizer has no chat template (a base model?); pass { template: 'alpaca' | 'chatml' | 'completion' } or { template: { chatTemplate } }");
  }
  const r = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: false, variables: o.templateVariables, ...(typeof t === 'object' ? { chatTemplate: t.chatTemplate } : {}) });
  const found = new Set(r.assistantSpans.map((s) => s.messageIndex));
  const missing = messages.map((m, i) => (m.role === 'assistant' && m.content.trim() !== '' && !found.has(i) ? i : -1)).filter((i) => i >= 0);
  if (missing.length) throw new Error(`tokenizeChat: the chat template dropped or rewrote assistant message(s) ${missing.join(', ')} beyond recognition, so their labels cannot be placed; check the template or the messages`);
  return { text: r.text, assistantSpans: r.assistantSpans, endSpans: [] };
}

/** Tokenises chat examples into ids and labels, counting what truncation does (see `report`). */
export class ChatExampleTokenizer {
  /** Running counts of truncated and dropped examples. */
  readonly report: TruncationReport = emptyTruncationReport();

  constructor(
    readonly tokenizer: Tokenizer,
    readonly options: TokenizeChatOptions = {},
  ) {
    if (options.maxLength !== undefined && !(options.maxLength >= 1)) throw new Error(`tokenizeChat: maxLength ${options.maxLength} must be ≥ 1`);
  }

  /** Tokenises one record (any supported chat format) or message list; null when truncation dropped it (counted in `report`). */
  tokenize(record: unknown): TokenizedExample | null {
    const o = this.options;
    const messages = Array.isArray(record) ? toMessages({ messages: record }, 'messages') : toMessages(record, o.recordFormat ?? detectFormat(record));
    const named = typeof o.template === 'string' && o.template !== 'model';
    const r = render(this.tokenizer, messages, o);
    // Counted once the record became a conversation and the template accepted it: a refused record
    // (toMessages or render threw) is the caller's bad line, not an example.
    const index = this.report.examples++;
    const enc = this.tokenizer.encode(r.text, { addSpecialTokens: o.addSpecialTokens ?? named, offsetUnit: 'utf16' });
    if (named && (o.addSpecialTokens ?? true)) this.ensureBos(enc);
    const lastTurn = Math.max(...r.assistantSpans.map((s) => s.messageIndex));
    const wanted = (i: number): boolean => (o.trainOn ?? 'all-turns') === 'all-turns' || i === lastTurn;
    const spans = r.assistantSpans.filter((s) => wanted(s.messageIndex));
    const ends = r.endSpans.filter((s) => wanted(s.messageIndex));
    const n = enc.ids.length;
    const answer = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      const [s, e] = enc.offsets[k]!;
      // A token that overlaps an answer is trained even if it also holds prompt text (e.g. " Hello"
      // after "Response:"): at inference the model has to produce exactly that token.
      if (e > s && spans.some((sp) => s < sp.end && e > sp.start)) answer[k] = 1;
      else if (e > s && ends.some((sp) => s < sp.end && e > sp.start)) answer[k] = 1;
    }
    if (r.endSpans.length === 0) this.markEndOfTurn(enc.offsets, enc.ids, r.text, spans, answer);
    let ids = enc.ids;
    let labels = ids.map((id, k) => (o.trainOnInputs || answer[k] ? id : IGNORE_INDEX));
    let offsets = enc.offsets;
    const max = o.maxLength;
    if (max !== undefined && n > max) {
      const mode = o.truncation ?? 'end';
      const [a, b] = mode === 'start' ? [n - max, n] : [0, max];
      const keptAnswer = answer.subarray(a, b).some((x) => x === 1);
      if (mode === 'drop' || !keptAnswer) {
        this.report.dropped++;
        if (this.report.droppedIndexes.length < 1000) this.report.droppedIndexes.push(index);
        return null;
      }
      this.report.truncated++;
      ids = ids.slice(a, b);
      labels = labels.slice(a, b);
      offsets = offsets.slice(a, b);
    }
    return { inputIds: ids, labels, attentionMask: ids.map(() => 1), ...(o.keepText ? { text: r.text, offsets } : {}) };
  }

  /** Tokenises a dataset lazily, leaving out dropped examples (each counted in `report`). */
  apply(dataset: Dataset<unknown>): Dataset<TokenizedExample> {
    return dataset.map((r) => this.tokenize(r)).filter((x): x is TokenizedExample => x !== null) as Dataset<TokenizedExample>;
  }

  // Named templates serve base models, which were pretrained with BOS first; some tokenizer.json files
  // (this Llama 3 one) have a post-processor that does not add it, so add it when the config names one.
  private ensureBos(enc: { ids: number[]; offsets: Array<[number, number]> }): void {
    const bos = this.tokenizer.specialToken('bos');
    const id = bos === null ? undefined : this.tokenizer.tokenToId(bos);
    if (id === undefined || enc.ids[0] === id || this.tokenizer.config.add_bos_token === false) return;
    enc.ids.unshift(id);
    enc.offsets.unshift([0, 0]);
  }

  // The end-of-turn token (<|eot_id|>, <|im_end|>, <end_of_turn>, EOS) must be trained or the model
  // never learns to stop: train the first special token after each answer that has only whitespace
  // text before it, and the whitespace tokens between (Llama 2's `answer </s>` puts a "▁" piece
  // there; TRL's completion-only collator trains " </s>" the same way).
  private markEndOfTurn(offsets: Array<[number, number]>, ids: number[], text: string, spans: Array<{ end: number }>, answer: Uint8Array): void {
    for (const sp of spans) {
      const between: number[] = [];
      for (let k = offsets.findIndex(([s, e]) => e > s && s >= sp.end); k >= 0 && k < ids.length; k++) {
        const [s, e] = offsets[k]!;
        if (this.tokenizer.addedVocabulary.byTokenId(ids[k]!)?.special === true) {
          if (text.slice(sp.end, s).trim() === '') for (const j of [...between, k]) answer[j] = 1;
          break;
        }
        if (e <= s || text.slice(s, e).trim() !== '') break;
        between.push(k);
      }
    }
  }
}

/** Tokenises one chat example (no running report); null if truncation dropped it. */
export function tokenizeChat(tokenizer: Tokenizer, record: unknown, options: TokenizeChatOptions = {}): TokenizedExample | null {
  return new ChatExampleTokenizer(tokenizer, options).tokenize(record);
}
