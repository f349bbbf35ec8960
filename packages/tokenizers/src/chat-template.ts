import { Template } from '@huggingface/jinja';
import type { Tokenizer } from './tokenizer.js';
import { specialTokenText } from './tokenizer-config.js';

/** One chat message as chat templates expect it. */
export interface ChatMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

/** Options of `applyChatTemplate`. */
export interface ChatTemplateOptions {
  addGenerationPrompt?: boolean;
  tools?: unknown[];
  /** A template text, or the name of one of the config's named templates; default: the config's. */
  chatTemplate?: string;
  /** Extra variables passed to the template (e.g. `enable_thinking`). */
  variables?: Record<string, unknown>;
}

/** A UTF-16 [start, end) span of the rendered text holding one assistant message's content. */
export interface AssistantSpan {
  messageIndex: number;
  start: number;
  end: number;
}

/** The rendered conversation and where the assistant answers are. */
export interface ChatTemplateResult {
  text: string;
  assistantSpans: AssistantSpan[];
}

// Private-use sentinels: wrapped around assistant content, located after rendering, then removed.
const OPEN = '\uf8f0';
const CLOSE = '\uf8f1';
const END = '\uf8f2';
const SENTINEL = /\uf8f0(\d+)\uf8f1|\uf8f2(\d+)\uf8f1/g;

const templateCache = new Map<string, Template>();

function compile(source: string): Template {
  let t = templateCache.get(source);
  if (!t) {
    t = new Template(source);
    templateCache.set(source, t);
  }
  return t;
}

function pickTemplate(tokenizer: Tokenizer, requested: string | undefined, hasTools: boolean): string {
  const ct = tokenizer.config.chat_template;
  if (requested !== undefined && !Array.isArray(ct)) return requested;
  if (typeof ct === 'string') return ct;
  if (Array.isArray(ct)) {
    const byName = new Map(ct.map((x) => [x.name, x.template]));
    const name = requested ?? (hasTools && byName.has('tool_use') ? 'tool_use' : 'default');
    const t = byName.get(name) ?? (requested && !byName.has(requested) ? requested : undefined);
    if (t) return t;
    throw new Error(`applyChatTemplate: no template named ${JSON.stringify(name)}; available: ${[...byName.keys()].join(', ')}`);
  }
  throw new Error('applyChatTemplate: tokenizer_config.json has no chat_template; pass { chatTemplate } or load the config with the tokenizer');
}

/** Renders a conversation with the model's Jinja chat template and locates the assistant contents. */
export function applyChatTemplate(tokenizer: Tokenizer, messages: ChatMessage[], options: ChatTemplateOptions = {}): ChatTemplateResult {
  const source = pickTemplate(tokenizer, options.chatTemplate, !!options.tools);
  const template = compile(source);
  const vars: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(tokenizer.config)) {
    if (k.endsWith('_token')) {
      const t = specialTokenText(v);
      if (t !== null) vars[k] = t;
    }
  }
  Object.assign(vars, options.variables ?? {});
  vars.add_generation_prompt = options.addGenerationPrompt ?? false;
  if (options.tools) vars.tools = options.tools;
  const render = (msgs: ChatMessage[]): string => template.render({ ...vars, messages: msgs });
  const text = render(messages);

  const marked = messages.map((m, i) => (m.role === 'assistant' && typeof m.content === 'string' ? { ...m, content: `${OPEN}${i}${CLOSE}${m.content}${END}${i}${CLOSE}` } : m));
  const withMarks = render(marked);
  const spans: AssistantSpan[] = [];
  const open = new Map<number, number>();
  let clean = '';
  let last = 0;
  for (const m of withMarks.matchAll(SENTINEL)) {
    clean += withMarks.slice(last, m.index);
    last = m.index + m[0].length;
    if (m[1] !== undefined) open.set(Number(m[1]), clean.length);
    else {
      const i = Number(m[2]);
      const start = open.get(i);
      if (start !== undefined) spans.push({ messageIndex: i, start, end: clean.length });
    }
  }
  clean += withMarks.slice(last);
  if (clean === text && spans.length === marked.filter((m, i) => m !== messages[i]).length) return { text, assistantSpans: spans };

  // The template rewrote the content (trimmed it, cut a reasoning block...): find each answer's
  // final form in the plain rendering instead, in order.
  const found: AssistantSpan[] = [];
  let from = 0;
  messages.forEach((m, i) => {
    if (m.role !== 'assistant' || typeof m.content !== 'string') return;
    const candidates = [m.content, m.content.trim(), m.content.split('</think>').pop()!.trim()];
    for (const c of candidates) {
      if (c.length === 0) continue;
      const at = text.indexOf(c, from);
      if (at >= 0) {
        found.push({ messageIndex: i, start: at, end: at + c.length });
        from = at + c.length;
        return;
      }
    }
  });
  return { text, assistantSpans: found };
}

/** 1 for every token whose UTF-16 offsets fall inside an assistant span, else 0 (use `offsetUnit: 'utf16'`). */
export function assistantTokenMask(offsets: Array<[number, number]>, spans: AssistantSpan[]): number[] {
  return offsets.map(([s, e]) => (e > s && spans.some((sp) => s >= sp.start && e <= sp.end) ? 1 : 0));
}
