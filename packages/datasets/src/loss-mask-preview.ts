import type { Tokenizer } from '@tessera/tokenizers';
import { ChatExampleTokenizer, IGNORE_INDEX, type TokenizeChatOptions, type TokenizedExample } from './tokenize-chat.js';

/** Output forms of the preview: ANSI colours for a terminal, HTML, or plain text with ⟦trained⟧ brackets. */
export type PreviewFormat = 'ansi' | 'html' | 'text';

const ANSI_TRAINED = '\x1b[30;42m';
const ANSI_PROMPT = '\x1b[2m';
const ANSI_RESET = '\x1b[0m';

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function wrap(s: string, trained: boolean, format: PreviewFormat): string {
  if (s === '') return '';
  if (format === 'ansi') return (trained ? ANSI_TRAINED : ANSI_PROMPT) + s + ANSI_RESET;
  if (format === 'html') return trained ? `<mark class="trained">${escapeHtml(s)}</mark>` : `<span class="prompt">${escapeHtml(s)}</span>`;
  return trained ? `⟦${s}⟧` : s;
}

/** Renders a tokenised example (made with `keepText`) with the tokens that take loss marked. */
export function renderLossMask(tokenizer: Tokenizer, example: TokenizedExample, format: PreviewFormat = 'ansi'): string {
  const { text, offsets } = example;
  if (text === undefined || offsets === undefined) throw new Error('renderLossMask: the example has no text/offsets; tokenise it with { keepText: true }');
  // Group consecutive tokens with the same trained state into runs, then print the runs.
  const runs: Array<{ s: string; trained: boolean }> = [];
  const push = (s: string, trained: boolean): void => {
    const last = runs[runs.length - 1];
    if (last && last.trained === trained) last.s += s;
    else runs.push({ s, trained });
  };
  let at = offsets.find(([s, e]) => e > s)?.[0] ?? 0;
  offsets.forEach(([s, e], k) => {
    const trained = example.labels[k] !== IGNORE_INDEX;
    if (e <= s) {
      // Tokens the post-processor added (BOS) have no text: show their names.
      push(tokenizer.idToToken(example.inputIds[k]!) ?? `<${example.inputIds[k]}>`, trained);
      return;
    }
    if (s > at) push(text.slice(at, s), false);
    push(text.slice(Math.max(s, at), e), trained);
    at = Math.max(at, e);
  });
  const trainedCount = example.labels.filter((l) => l !== IGNORE_INDEX).length;
  const body = runs.map((r) => wrap(r.s, r.trained, format)).join('');
  const legend = `${trainedCount} of ${example.labels.length} tokens trained`;
  if (format === 'html') {
    return `<div class="loss-mask-preview"><style>.loss-mask-preview pre{white-space:pre-wrap}.loss-mask-preview mark.trained{background:#b7f5c4}.loss-mask-preview span.prompt{color:#888}</style><pre>${body}</pre><p>${escapeHtml(legend)}</p></div>`;
  }
  return `${body}\n-- ${legend}${format === 'ansi' ? ` (${ANSI_TRAINED}trained${ANSI_RESET}, ${ANSI_PROMPT}no loss${ANSI_RESET})` : ' (⟦trained⟧)'}`;
}

/** Tokenises a record as training would and renders which tokens are trained, so a user can check the mask before training. */
export function previewLossMask(tokenizer: Tokenizer, record: unknown, options: TokenizeChatOptions & { format?: PreviewFormat } = {}): string {
  const ex = new ChatExampleTokenizer(tokenizer, { ...options, keepText: true }).tokenize(record);
  if (!ex) throw new Error(`previewLossMask: truncation ('${options.truncation ?? 'end'}', maxLength ${options.maxLength}) dropped this example, so nothing of it would be trained`);
  return renderLossMask(tokenizer, ex, options.format ?? 'ansi');
}
