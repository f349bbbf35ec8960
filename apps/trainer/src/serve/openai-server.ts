import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { OpenAiError } from './openai-error.js';
import { chatMessages, completionPrompt, samplingRequest, type SamplingRequest } from './openai-request.js';
import type { Completion, ServedModel } from './served-model.js';

const MAX_BODY_BYTES = 4 * 2 ** 20;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new OpenAiError(413, `Request body is larger than ${MAX_BODY_BYTES} bytes`, null, 'request_too_large');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new OpenAiError(400, `We could not parse the JSON body of your request (${(err as Error).message}); send a JSON object with Content-Type: application/json`, null, 'invalid_json');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OpenAiError(400, `The request body must be a JSON object, got ${Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body}`, null, 'invalid_json');
  return body as Record<string, unknown>;
}

const usageOf = (c: Completion): { prompt_tokens: number; completion_tokens: number; total_tokens: number } => ({ prompt_tokens: c.promptTokens, completion_tokens: c.completionTokens, total_tokens: c.promptTokens + c.completionTokens });

/** Server-sent events: one `data:` line per chunk, `data: [DONE]` at the end, as OpenAI streams. */
class EventStream {
  closed = false;
  constructor(readonly res: ServerResponse) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.on('close', () => void (this.closed = true));
  }
  send(data: unknown): void {
    if (!this.closed) this.res.write(`data: ${JSON.stringify(data)}\n\n`);
  }
  done(): void {
    if (!this.closed) this.res.end('data: [DONE]\n\n');
  }
}

async function chatCompletions(served: ServedModel, body: Record<string, unknown>, res: ServerResponse): Promise<void> {
  const req = samplingRequest(body);
  const messages = chatMessages(body);
  served.checkName(req.model);
  const ids = served.chatPromptIds(messages);
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  if (!req.stream) {
    const c = await served.generate(ids, req);
    sendJson(res, 200, { id, object: 'chat.completion', created, model: req.model, choices: [{ index: 0, message: { role: 'assistant', content: c.text, refusal: null }, logprobs: null, finish_reason: c.finishReason }], usage: usageOf(c) });
    return;
  }
  const sse = new EventStream(res);
  const chunk = (delta: Record<string, unknown>, finish: string | null): Record<string, unknown> => ({ id, object: 'chat.completion.chunk', created, model: req.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  await streamed(served, ids, req, sse, {
    first: () => chunk({ role: 'assistant', content: '' }, null),
    delta: (text) => chunk({ content: text }, null),
    last: (c) => chunk({}, c.finishReason),
    usage: (c) => ({ id, object: 'chat.completion.chunk', created, model: req.model, choices: [], usage: usageOf(c) }),
  });
}

async function completions(served: ServedModel, body: Record<string, unknown>, res: ServerResponse): Promise<void> {
  const req = samplingRequest(body);
  const prompt = completionPrompt(body);
  served.checkName(req.model);
  const ids = served.textPromptIds(prompt);
  const id = `cmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const choice = (text: string, finish: string | null): Record<string, unknown> => ({ id, object: 'text_completion', created, model: req.model, choices: [{ index: 0, text, logprobs: null, finish_reason: finish }] });
  if (!req.stream) {
    const c = await served.generate(ids, req);
    sendJson(res, 200, { ...choice(c.text, c.finishReason), usage: usageOf(c) });
    return;
  }
  await streamed(served, ids, req, new EventStream(res), {
    delta: (text) => choice(text, null),
    last: (c) => choice('', c.finishReason),
    usage: (c) => ({ id, object: 'text_completion', created, model: req.model, choices: [], usage: usageOf(c) }),
  });
}

// Errors after the stream has started cannot change the status; they go out as an error event.
async function streamed(served: ServedModel, ids: number[], req: SamplingRequest, sse: EventStream, f: { first?: () => unknown; delta: (t: string) => unknown; last: (c: Completion) => unknown; usage: (c: Completion) => unknown }): Promise<void> {
  if (f.first) sse.send(f.first());
  try {
    const c = await served.generate(ids, req, (d) => sse.send(f.delta(d)), () => sse.closed);
    sse.send(f.last(c));
    if (req.includeUsage) sse.send(f.usage(c));
  } catch (err) {
    sse.send((err instanceof OpenAiError ? err : new OpenAiError(500, (err as Error).message)).body());
  }
  sse.done();
}

/** The routes: GET /v1/models, POST /v1/chat/completions, POST /v1/completions. */
export function createOpenAiServer(served: ServedModel, log: (line: string) => void = () => undefined): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '')}`;
    const t0 = performance.now();
    const handle = async (): Promise<void> => {
      if (route === 'GET /v1/models') {
        sendJson(res, 200, { object: 'list', data: served.names.map((id) => ({ id, object: 'model', created: served.created, owned_by: id === served.baseName ? 'tessera' : `adapter of ${served.baseName}` })) });
      } else if (route.startsWith('GET /v1/models/')) {
        const name = decodeURIComponent(url.pathname.slice('/v1/models/'.length));
        served.checkName(name);
        sendJson(res, 200, { id: name, object: 'model', created: served.created, owned_by: name === served.baseName ? 'tessera' : `adapter of ${served.baseName}` });
      } else if (route === 'POST /v1/chat/completions') {
        await chatCompletions(served, await readJsonBody(req), res);
      } else if (route === 'POST /v1/completions') {
        await completions(served, await readJsonBody(req), res);
      } else if (['/v1/models', '/v1/chat/completions', '/v1/completions'].includes(url.pathname)) {
        throw new OpenAiError(405, `${req.method} is not allowed on ${url.pathname}; use ${url.pathname === '/v1/models' ? 'GET' : 'POST'}`, null, 'method_not_allowed');
      } else {
        throw new OpenAiError(404, `Unknown route ${req.method} ${url.pathname}; this server answers GET /v1/models, POST /v1/chat/completions and POST /v1/completions`, null, 'unknown_url');
      }
    };
    handle()
      .catch((err: unknown) => {
        const e = err instanceof OpenAiError ? err : new OpenAiError(500, `internal error: ${(err as Error).message}`);
        if (!res.headersSent) sendJson(res, e.status, e.body());
        else res.end();
      })
      .finally(() => log(`${route} ${res.statusCode} ${(performance.now() - t0).toFixed(0)} ms`));
  });
}
