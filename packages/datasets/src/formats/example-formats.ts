import type { ChatMessage } from '@tessera/tokenizers';

/** Alpaca: an instruction, an optional input, the expected output. */
export interface AlpacaExample {
  instruction: string;
  input?: string;
  output: string;
  system?: string;
}

/** ShareGPT: turns with `from` (human/gpt/system...) and `value`. */
export interface ShareGptExample {
  conversations: Array<{ from: string; value: string }>;
  system?: string;
}

/** OpenAI / Hugging Face chat messages. */
export interface MessagesExample {
  messages: ChatMessage[];
}

/** A prompt and its completion (plain text, for base models or single-turn chat). */
export interface PromptCompletionExample {
  prompt: string;
  completion: string;
}

/** Token classification (NER): words and one tag per word. */
export interface TokenClassificationExample {
  tokens: string[];
  tags: Array<string | number>;
}

/** The record formats this package recognises. */
export type ExampleFormat = 'alpaca' | 'sharegpt' | 'messages' | 'prompt-completion' | 'token-classification';
