import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ChatExampleTokenizer, toMessages } from '@tessera/datasets';
import { formatClassificationReport, type ClassificationReport } from '@tessera/metrics';
import { evaluate, type EvalExample, type Evaluation } from '../evaluate.js';
import { CountProgress } from '../progress.js';
import { dataFiles, readChatRecords } from '../read-chat-records.js';
import { loadWithAdapter } from './model-tools.js';

/** Options of `tessera-train eval`. */
export interface EvalCommandOptions {
  model: string;
  adapter?: string;
  data: string;
  out: string;
  maxLength: number;
  maxNewTokens: number;
  onBadLine: 'stop' | 'skip';
  quiet?: boolean;
}

/**
 * A data record as an evaluation example: any chat format @tessera/datasets reads; the group is its
 * `family` or `task` field ("all" without one); `words` + `tags` (BIO) make it an NER example.
 */
export function evalExampleOf(record: Record<string, unknown>, where: string): EvalExample {
  const messages = toMessages(record);
  if (messages.length < 2 || messages.at(-1)!.role !== 'assistant') throw new Error(`${where}: the last message must be the assistant's answer to score; got role "${messages.at(-1)?.role}"`);
  const family = record.family ?? record.task ?? 'all';
  if (typeof family !== 'string') throw new Error(`${where}: "family" must be a string, got ${JSON.stringify(family)}`);
  const ex: EvalExample = { family, messages: messages.map((m) => ({ role: m.role, content: String(m.content) })) };
  if (Array.isArray(record.words) && Array.isArray(record.tags)) {
    if (record.words.length !== record.tags.length) throw new Error(`${where}: "words" has ${record.words.length} items but "tags" ${record.tags.length}; they must be parallel`);
    ex.words = record.words.map(String);
    ex.tags = record.tags.map(String);
  }
  return ex;
}

/** A classification report as plain JSON (its per-class scores are a Map). */
export function reportJson(r: ClassificationReport): Record<string, unknown> {
  return { ...r, perClass: Object.fromEntries([...r.perClass].map(([k, v]) => [String(k), v])) };
}

/** Formats an evaluation as a terminal table (per family, overall, NER report). */
export function formatEvaluation(e: Evaluation): string {
  const lines = [`${'family'.padEnd(14)} ${'examples'.padStart(8)} ${'exact match'.padStart(11)} ${'loss'.padStart(8)} ${'perplexity'.padStart(10)}`];
  const row = (name: string, m: Evaluation['overall']): string => `${name.padEnd(14)} ${String(m.examples).padStart(8)} ${`${(m.exactMatch * 100).toFixed(1)}%`.padStart(11)} ${m.loss.toFixed(3).padStart(8)} ${m.perplexity.toFixed(2).padStart(10)}`;
  for (const [f, m] of Object.entries(e.families)) lines.push(row(f, m));
  if (Object.keys(e.families).length > 1) lines.push(row('overall', e.overall));
  if (e.ner) {
    lines.push('', `NER entity micro-F1 (seqeval): ${e.ner.microF1.toFixed(3)}`, 'token-level classification report:');
    lines.push(formatClassificationReport(e.ner.tokenReport));
  }
  return lines.join('\n');
}

/** `eval`: exact match per family, answer loss and perplexity, the NER report where records carry tags; writes JSON. */
export async function evalCommand(o: EvalCommandOptions): Promise<Evaluation> {
  const log = (s: string): void => void (o.quiet || console.log(s));
  const { records, bad } = await readChatRecords(await dataFiles(o.data), o.onBadLine, (r) => void evalExampleOf(r as Record<string, unknown>, 'record'));
  for (const b of bad) log(`skipped ${b.where}: ${b.reason}`);
  const examples = records.map((r) => evalExampleOf(r.record as Record<string, unknown>, r.where));
  if (examples.length === 0) throw new Error(`--data ${o.data}: no examples to evaluate (${bad.length} bad lines)`);
  const m = await loadWithAdapter(o.model, o.adapter);
  const chat = new ChatExampleTokenizer(m.tokenizer!, { maxLength: o.maxLength });
  const t0 = performance.now();
  const bar = new CountProgress('eval', examples.length, o.quiet, { unit: 'examples' });
  let result: Evaluation;
  try {
    result = await evaluate(m.model, m.tokenizer!, chat, examples, { maxNewTokens: o.maxNewTokens, onProgress: (done) => bar.update(done) });
  } finally {
    bar.stop();
  }
  log(formatEvaluation(result));
  const report = { model: o.model, adapter: o.adapter ?? null, data: o.data, examples: examples.length, skippedLines: bad, seconds: (performance.now() - t0) / 1000, ...result, ner: result.ner && { microF1: result.ner.microF1, tokenReport: reportJson(result.ner.tokenReport) } };
  await mkdir(path.dirname(path.resolve(o.out)), { recursive: true });
  // Written through a temporary name, so an interrupted eval never leaves half a JSON file.
  await writeFile(`${o.out}.tmp-${process.pid}`, `${JSON.stringify(report, null, 2)}\n`);
  await rename(`${o.out}.tmp-${process.pid}`, o.out);
  log(`wrote ${o.out}`);
  return result;
}
