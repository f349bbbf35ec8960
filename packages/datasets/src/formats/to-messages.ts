import type { ChatMessage } from '@tessera/tokenizers';
import { detectFormat } from './detect-format.js';
import type { AlpacaExample, ExampleFormat, MessagesExample, PromptCompletionExample, ShareGptExample } from './example-formats.js';

// ShareGPT speaker names seen in the wild, mapped to chat roles.
const SHAREGPT_ROLES: Record<string, string> = {
  human: 'user',
  user: 'user',
  gpt: 'assistant',
  assistant: 'assistant',
  chatgpt: 'assistant',
  bard: 'assistant',
  bing: 'assistant',
  model: 'assistant',
  system: 'system',
  tool: 'tool',
  function_response: 'tool',
  observation: 'tool',
};

// OpenAI's multi-part content ([{ type: 'text', text }, ...]) becomes its text parts joined; other
// parts (images, audio) have no place in a text-only example and are refused by checkMessages.
function flattenContent(content: unknown): unknown {
  if (!Array.isArray(content)) return content;
  const parts = content as Array<{ type?: string; text?: unknown }>;
  return parts.every((p) => p && p.type === 'text' && typeof p.text === 'string') ? parts.map((p) => p.text).join('') : content;
}

function checkMessages(messages: ChatMessage[], where: string): ChatMessage[] {
  messages.forEach((m, i) => {
    if (typeof m.role !== 'string') throw new Error(`${where}[${i}].role: expected a string, got ${JSON.stringify(m.role)}`);
    if (typeof m.content !== 'string') throw new Error(`${where}[${i}].content: expected a string, got ${JSON.stringify(m.content)?.slice(0, 60)}; flatten multi-part content to text first`);
  });
  if (!messages.some((m) => m.role === 'assistant')) throw new Error(`${where}: no assistant message, so nothing would be trained; add the expected answer as { role: 'assistant', content }`);
  return messages;
}

/** Converts an Alpaca, ShareGPT, messages or prompt/completion record into chat messages. */
export function toMessages(record: unknown, format: ExampleFormat = detectFormat(record)): ChatMessage[] {
  switch (format) {
    case 'alpaca': {
      const r = record as AlpacaExample;
      // The common convention (FastChat, Axolotl, TRL): the input follows the instruction after a blank line.
      const user = r.input && r.input.trim() !== '' ? `${r.instruction}\n\n${r.input}` : r.instruction;
      return [...(r.system ? [{ role: 'system', content: r.system }] : []), { role: 'user', content: user }, { role: 'assistant', content: r.output }];
    }
    case 'sharegpt': {
      const r = record as ShareGptExample;
      const msgs = r.conversations.map((t, i) => {
        const role = SHAREGPT_ROLES[String(t.from).toLowerCase()];
        if (!role) throw new Error(`conversations[${i}].from: unknown speaker ${JSON.stringify(t.from)}; expected one of ${Object.keys(SHAREGPT_ROLES).join(', ')}`);
        return { role, content: t.value };
      });
      return checkMessages(r.system && msgs[0]?.role !== 'system' ? [{ role: 'system', content: r.system }, ...msgs] : msgs, 'conversations');
    }
    case 'messages': {
      const r = record as MessagesExample & { conversations?: ChatMessage[] };
      return checkMessages((r.messages ?? r.conversations)!.map((m) => ({ ...m, content: flattenContent(m.content) as string })), 'messages');
    }
    case 'prompt-completion': {
      const r = record as PromptCompletionExample;
      return [{ role: 'user', content: r.prompt }, { role: 'assistant', content: r.completion }];
    }
    case 'token-classification':
      throw new Error('toMessages: a token-classification record has no conversation; use alignTokenLabels for it');
    default:
      throw new Error(`toMessages: unknown format ${JSON.stringify(format)}`);
  }
}
