import type { ChatMessage, Tokenizer } from '@tessera/tokenizers';

/** A rendered conversation: the text, the answer spans to train, and end-of-turn spans to train with them (UTF-16 [start, end)). */
export interface RenderedConversation {
  text: string;
  assistantSpans: Array<{ messageIndex: number; start: number; end: number }>;
  /** Text after an answer that the model must learn to produce (EOS, an end-of-turn marker), per answer. */
  endSpans: Array<{ messageIndex: number; start: number; end: number }>;
}

/** Named instruction templates for base models that ship no chat template. */
export type InstructionTemplateName = 'alpaca' | 'chatml' | 'completion';

const ALPACA_PREAMBLE = 'Below is an instruction that describes a task. Write a response that appropriately completes the request.';

/** The EOS token text a template appends after answers; throws naming the fix when the tokenizer has none. */
export function eosText(tokenizer: Tokenizer, override?: string): string {
  const eos = override ?? tokenizer.specialToken('eos');
  if (eos === null || eos === undefined) throw new Error("instruction template: the tokenizer's config names no eos_token, and every answer must end with one; pass { eosToken: '</s>' } (or the model's EOS)");
  return eos;
}

/** Renders messages with a named instruction template (Alpaca, ChatML, or plain completion text + EOS). */
export function renderInstructionTemplate(name: InstructionTemplateName, messages: ChatMessage[], eos: string): RenderedConversation {
  let text = '';
  const assistantSpans: RenderedConversation['assistantSpans'] = [];
  const endSpans: RenderedConversation['endSpans'] = [];
  const answer = (content: string, i: number, end: string): void => {
    assistantSpans.push({ messageIndex: i, start: text.length, end: text.length + content.length });
    text += content;
    endSpans.push({ messageIndex: i, start: text.length, end: text.length + end.length });
    text += end;
  };
  if (name === 'chatml') {
    messages.forEach((m, i) => {
      text += `<|im_start|>${m.role}\n`;
      if (m.role === 'assistant') answer(m.content, i, '<|im_end|>');
      else text += `${m.content}<|im_end|>`;
      text += '\n';
    });
    return { text, assistantSpans, endSpans };
  }
  if (name === 'alpaca') {
    const system = messages.find((m) => m.role === 'system')?.content ?? ALPACA_PREAMBLE;
    text += `${system}\n\n`;
    messages.forEach((m, i) => {
      if (m.role === 'system') return;
      if (m.role === 'assistant') {
        text += '### Response:\n';
        answer(m.content, i, eos);
        text += '\n\n';
      } else text += `### Instruction:\n${m.content}\n\n`;
    });
    return { text: text.replace(/\n\n$/, ''), assistantSpans, endSpans };
  }
  if (name === 'completion') {
    // Plain continuation: prompt text immediately followed by the answer, as a base model reads it.
    messages.forEach((m, i) => {
      if (m.role === 'assistant') answer(m.content, i, eos);
      else text += m.content;
    });
    return { text, assistantSpans, endSpans };
  }
  throw new Error(`instruction template: unknown name ${JSON.stringify(name)}; use alpaca, chatml or completion`);
}
