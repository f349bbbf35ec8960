import { OpenAiError } from './openai-error.js';

/** The sampling fields shared by /v1/chat/completions and /v1/completions, validated. */
export interface SamplingRequest {
  model: string;
  maxTokens: number;
  /** 0 means greedy (argmax), as OpenAI's models behave near temperature 0. */
  temperature: number;
  topP: number;
  stop: string[];
  seed: number | undefined;
  stream: boolean;
  /** Whether the final streamed chunk carries `usage` (stream_options.include_usage). */
  includeUsage: boolean;
}

/** A chat message reduced to what the chat template reads. */
export interface ChatMessage {
  role: string;
  content: string;
}

const DEFAULT_MAX_TOKENS = 64;
const ROLES = ['system', 'developer', 'user', 'assistant'];

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const bad = (param: string, message: string): never => {
  throw new OpenAiError(400, message, param, 'invalid_value');
};

function optionalNumber(body: Record<string, unknown>, key: string, min: number, max: number, fallback: number): number {
  const v = body[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) return bad(key, `'${key}' must be a number, got ${typeName(v)} ${JSON.stringify(v)}`);
  if (v < min || v > max) return bad(key, `'${key}' is ${v}; expected a number from ${min} to ${max}`);
  return v;
}

function optionalInt(body: Record<string, unknown>, key: string, min: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) return bad(key, `'${key}' must be an integer, got ${typeName(v)} ${JSON.stringify(v)}`);
  if (v < min) return bad(key, `'${key}' is ${v}; expected an integer ≥ ${min}`);
  return v;
}

/** Reads the fields every generation request shares; unsupported values are 400s that say what is supported. */
export function samplingRequest(body: Record<string, unknown>): SamplingRequest {
  if (typeof body.model !== 'string' || body.model === '') bad('model', `'model' is required: a string naming the base model or an adapter (GET /v1/models lists them), got ${typeName(body.model)}`);
  const n = optionalInt(body, 'n', 1);
  if (n !== undefined && n !== 1) bad('n', `'n' is ${n}; this server returns one choice per request (n: 1)`);
  let stop: string[] = [];
  if (typeof body.stop === 'string') stop = [body.stop];
  else if (Array.isArray(body.stop)) stop = body.stop as string[];
  else if (body.stop !== undefined && body.stop !== null) bad('stop', `'stop' must be a string or an array of up to 4 strings, got ${typeName(body.stop)}`);
  if (stop.length > 4 || stop.some((s) => typeof s !== 'string' || s === '')) bad('stop', `'stop' must be a string or an array of up to 4 non-empty strings, got ${JSON.stringify(body.stop)}`);
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') bad('stream', `'stream' must be a boolean, got ${typeName(body.stream)}`);
  const so = body.stream_options;
  if (so !== undefined && so !== null && (typeof so !== 'object' || Array.isArray(so))) bad('stream_options', `'stream_options' must be an object such as {"include_usage": true}, got ${typeName(so)}`);
  return {
    model: body.model as string,
    maxTokens: optionalInt(body, 'max_completion_tokens', 0) ?? optionalInt(body, 'max_tokens', 0) ?? DEFAULT_MAX_TOKENS,
    temperature: optionalNumber(body, 'temperature', 0, 2, 1),
    topP: optionalNumber(body, 'top_p', 0, 1, 1),
    stop,
    seed: optionalInt(body, 'seed', Number.MIN_SAFE_INTEGER),
    stream: body.stream === true,
    includeUsage: (so as { include_usage?: unknown } | undefined)?.include_usage === true,
  };
}

/** The `messages` of a chat request: string content, or text parts joined (images and audio are refused). */
export function chatMessages(body: Record<string, unknown>): ChatMessage[] {
  const m = body.messages;
  if (m === undefined) return bad('messages', "'messages' is required: an array of {role, content} objects");
  if (!Array.isArray(m) || m.length === 0) return bad('messages', `'messages' must be a non-empty array of {role, content} objects, got ${Array.isArray(m) ? 'an empty array' : typeName(m)}`);
  return m.map((msg: unknown, i) => {
    const where = `messages[${i}]`;
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return bad(where, `'${where}' must be an object {role, content}, got ${typeName(msg)}`);
    const { role, content } = msg as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || !ROLES.includes(role)) return bad(`${where}.role`, `'${where}.role' is ${JSON.stringify(role)}; expected one of ${ROLES.map((r) => `'${r}'`).join(', ')}`);
    if (typeof content === 'string') return { role: role === 'developer' ? 'system' : role, content };
    if (Array.isArray(content)) {
      const texts = content.map((p: unknown, k) => {
        const part = p as { type?: unknown; text?: unknown };
        if (part?.type !== 'text' || typeof part.text !== 'string') return bad(`${where}.content[${k}]`, `'${where}.content[${k}]' must be {type: 'text', text: string}; this server reads text only`);
        return part.text;
      });
      return { role: role === 'developer' ? 'system' : role, content: texts.join('') };
    }
    return bad(`${where}.content`, `'${where}.content' must be a string or an array of text parts, got ${typeName(content)}`);
  });
}

/** The `prompt` of a completions request: a string, or an array holding one string. */
export function completionPrompt(body: Record<string, unknown>): string {
  const p = body.prompt;
  if (typeof p === 'string') return p;
  if (Array.isArray(p) && p.length === 1 && typeof p[0] === 'string') return p[0];
  if (p === undefined) return bad('prompt', "'prompt' is required: a string");
  return bad('prompt', `'prompt' must be a string (or an array of one string), got ${typeName(p)}${Array.isArray(p) ? ` of length ${p.length}` : ''}`);
}
