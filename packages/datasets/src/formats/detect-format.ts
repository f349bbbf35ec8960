import type { ExampleFormat } from './example-formats.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Which format a record is in, from its fields; throws listing the fields found and the formats' fields. */
export function detectFormat(record: unknown): ExampleFormat {
  if (isObj(record)) {
    if (Array.isArray(record.messages) && record.messages.every((m) => isObj(m) && 'role' in m)) return 'messages';
    if (Array.isArray(record.conversations) && record.conversations.every((m) => isObj(m) && 'from' in m && 'value' in m)) return 'sharegpt';
    if (Array.isArray(record.conversations) && record.conversations.every((m) => isObj(m) && 'role' in m)) return 'messages';
    if (typeof record.instruction === 'string' && typeof record.output === 'string') return 'alpaca';
    if (typeof record.prompt === 'string' && typeof record.completion === 'string') return 'prompt-completion';
    if (Array.isArray(record.tokens) && (Array.isArray(record.tags) || Array.isArray(record.ner_tags))) return 'token-classification';
  }
  const fields = isObj(record) ? Object.keys(record).map((k) => `${k}: ${Array.isArray(record[k]) ? 'array' : typeof record[k]}`) : [Array.isArray(record) ? 'an array' : typeof record];
  throw new Error(
    `detectFormat: cannot tell the format of a record with fields {${fields.join(', ')}}; expected one of ` +
      'alpaca {instruction, output, input?}, sharegpt {conversations: [{from, value}]}, messages {messages: [{role, content}]}, ' +
      'prompt-completion {prompt, completion}, token-classification {tokens, tags | ner_tags}; rename the fields or pass { format }',
  );
}
