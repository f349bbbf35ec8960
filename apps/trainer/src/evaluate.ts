import type { ChatExampleTokenizer } from '@tessera/datasets';
import { generate, type LlamaForCausalLM } from '@tessera/models';
import { classificationReport, exactMatch, seqeval, type ClassificationReport } from '@tessera/metrics';
import { noGrad } from '@tessera/autograd';
import { tidy } from '@tessera/tensor';
import type { Tokenizer } from '@tessera/tokenizers';
import { TASK_FAMILIES } from './data/instruction-tasks.js';
import { nerTagsFromAnswer } from './ner-tags.js';
import { batchTensors } from './train-loop.js';

/** Metrics of one task family. */
export interface FamilyMetrics {
  examples: number;
  exactMatch: number;
  loss: number;
  perplexity: number;
}

/** What `evaluate` returns: per family, overall, NER reports and the predictions. */
export interface Evaluation {
  families: Record<string, FamilyMetrics>;
  overall: FamilyMetrics;
  ner?: { microF1: number; tokenReport: ClassificationReport };
  predictions: Array<{ family: string; prompt: string; expected: string; predicted: string }>;
}

/**
 * A held-out conversation: the last message is the expected answer, the ones before it the prompt.
 * `family` groups the metrics; `words` and `tags` (BIO) make it an NER example scored with seqeval.
 */
export interface EvalExample {
  family: string;
  messages: ReadonlyArray<{ role: string; content: string }>;
  words?: string[];
  tags?: string[];
}

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /** Examples per generation batch (default 25). */
  batchSize?: number;
  /** Greedy decoding budget per answer (default 24). */
  maxNewTokens?: number;
  /**
   * Called after each batch with the examples done so far. The command line draws its progress bar
   * from it; this module stays free of terminal code, since the studio runs it in a browser worker.
   */
  onProgress?: (done: number, total: number) => void;
}

/** Teacher-forced answer loss and greedy-decoded exact match on held-out examples. */
export async function evaluate(model: LlamaForCausalLM, tokenizer: Tokenizer, chat: ChatExampleTokenizer, examples: EvalExample[], opts: EvaluateOptions = {}): Promise<Evaluation> {
  const padId = model.config.padTokenId ?? 0;
  const bs = opts.batchSize ?? 25;
  model.eval();
  const lossOf: number[] = [];
  const tokensOf: number[] = [];
  const predictions: string[] = [];
  for (let i = 0; i < examples.length; i += bs) {
    const chunk = examples.slice(i, i + bs);
    // Loss per example (batch of one row each would be slow; a padded batch gives the mean, so go row by row on the logits-free path).
    for (const [k, ex] of chunk.entries()) {
      const t = chat.tokenize(ex.messages as Array<{ role: string; content: string }>);
      if (!t) throw new Error(`evaluate: example ${i + k} (${ex.family}) has no trainable answer tokens after truncation; raise maxLength`);
      const v = noGrad(() =>
        tidy(() => {
          const b = batchTensors([t], padId);
          return { loss: model.forward(b.ids, { labels: b.labels }).loss!, tokens: b.tokens };
        }),
      );
      // An async read: GPU backends (WebGPU in the studio) cannot read synchronously.
      lossOf.push((await v.loss.data())[0]!);
      v.loss.dispose();
      tokensOf.push(Math.max(1, v.tokens));
    }
    const prompts = chunk.map((ex) => tokenizer.encode(tokenizer.applyChatTemplate(ex.messages.slice(0, -1) as Array<{ role: string; content: string }>, { addGenerationPrompt: true }).text, { addSpecialTokens: false }).ids);
    const longest = Math.max(...prompts.map((p) => p.length));
    const ids = prompts.map((p) => [...new Array<number>(longest - p.length).fill(padId), ...p]);
    const mask = prompts.map((p) => [...new Array<number>(longest - p.length).fill(0), ...p.map(() => 1)]);
    const out = await noGrad(() => generate(model, ids, { attentionMask: mask, maxNewTokens: opts.maxNewTokens ?? 24, tokenizer }));
    predictions.push(...out.text!.map((s) => s.trim()));
    opts.onProgress?.(predictions.length, examples.length);
  }
  const summarize = (idx: number[]): FamilyMetrics => {
    let lossTokens = 0;
    let tokens = 0;
    for (const i of idx) (lossTokens += lossOf[i]! * tokensOf[i]!), (tokens += tokensOf[i]!);
    const loss = lossTokens / Math.max(1, tokens);
    const em = exactMatch(idx.map((i) => predictions[i]!), idx.map((i) => examples[i]!.messages.at(-1)!.content));
    return { examples: idx.length, exactMatch: em.exactMatch, loss, perplexity: Math.exp(loss) };
  };
  const families: Record<string, FamilyMetrics> = {};
  // The built-in families in their usual order, then any others in order of appearance.
  const names = [...new Set<string>([...TASK_FAMILIES.filter((f) => examples.some((e) => e.family === f)), ...examples.map((e) => e.family)])];
  for (const f of names) {
    const idx = examples.map((e, i) => (e.family === f ? i : -1)).filter((i) => i >= 0);
    if (idx.length) families[f] = summarize(idx);
  }
  const result: Evaluation = {
    families,
    overall: summarize(examples.map((_, i) => i)),
    predictions: examples.map((e, i) => ({ family: e.family, prompt: e.messages.at(-2)?.content ?? '', expected: e.messages.at(-1)!.content, predicted: predictions[i]! })),
  };
  const nerIdx = examples.map((e, i) => (e.words && e.tags ? i : -1)).filter((i) => i >= 0);
  if (nerIdx.length) {
    const gold = nerIdx.map((i) => examples[i]!.tags!);
    const pred = nerIdx.map((i) => nerTagsFromAnswer(examples[i]!.words!, predictions[i]!));
    result.ner = { microF1: seqeval(gold, pred).f1, tokenReport: classificationReport(gold.flat(), pred.flat()) };
  }
  return result;
}
