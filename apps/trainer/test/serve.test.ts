import { mkdtemp } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { loadModel } from '@tessera/models';
import { PeftModel } from '@tessera/peft';
import { saveAdapter } from '@tessera/peft/node';
import { Generator, randn, registerBackend } from '@tessera/tensor';
import { serveCommand } from '../src/commands/serve.js';

// The committed default base model (0.7M parameters, with tokenizer and chat template) keeps the server real and fast.
const MODEL = fileURLToPath(new URL('../assets/default-model', import.meta.url));
let server: Server;
let url: string;
let client: OpenAI;

/** Two random LoRA adapters (B not zero, large alpha) so their outputs differ visibly from the base. */
async function makeAdapters(dir: string): Promise<{ alpha: string; beta: string }> {
  const { model } = await loadModel(MODEL);
  const peft = new PeftModel(model, { r: 4, loraAlpha: 64, targetModules: ['q_proj', 'v_proj', 'down_proj'], initLoraWeights: false }, 'alpha', { generator: new Generator(1) });
  peft.addAdapter('beta', { r: 4, loraAlpha: 64, targetModules: ['q_proj', 'up_proj'], initLoraWeights: false }, { generator: new Generator(2) });
  const out = { alpha: path.join(dir, 'alpha'), beta: path.join(dir, 'beta') };
  await saveAdapter(peft, out.alpha, 'alpha');
  await saveAdapter(peft, out.beta, 'beta');
  return out;
}

const ask = (content: string) => [{ role: 'user' as const, content }];

beforeAll(async () => {
  registerBackend(createCpuBackend());
  const dir = await mkdtemp(path.join(tmpdir(), 'tessera-serve-'));
  const a = await makeAdapters(dir);
  const s = await serveCommand({ model: MODEL, adapter: [{ name: 'alpha', dir: a.alpha }, { name: 'beta', dir: a.beta }], host: '127.0.0.1', port: 0, quiet: true });
  server = s.server;
  url = s.url;
  client = new OpenAI({ baseURL: url, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
});

describe('serve: OpenAI-compatible server, held to the official openai client', () => {
  it('lists the base model and the adapters', async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(['default-model', 'alpha', 'beta']);
    expect((await client.models.retrieve('beta')).id).toBe('beta');
  });

  it('answers a chat completion, and streams the same text as chunks ending in [DONE]', async () => {
    const req = { model: 'default-model', messages: ask('What is 2 + 3?'), temperature: 0, max_tokens: 12 };
    const r = await client.chat.completions.create(req);
    expect(r.object).toBe('chat.completion');
    expect(r.choices).toHaveLength(1);
    expect(r.choices[0]!.message.role).toBe('assistant');
    expect(typeof r.choices[0]!.message.content).toBe('string');
    expect(['stop', 'length']).toContain(r.choices[0]!.finish_reason);
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);

    const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id)).toBe(true);
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(r.choices[0]!.message.content);
    const finals = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finals.map((c) => c.choices[0]!.finish_reason)).toEqual([r.choices[0]!.finish_reason]);
    expect(chunks.at(-1)!.usage).toEqual(r.usage);

    // The raw wire format: server-sent events, the last one `data: [DONE]`.
    const raw = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...req, stream: true }) });
    expect(raw.headers.get('content-type')).toBe('text/event-stream');
    const events = (await raw.text()).split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
  });

  it('answers /v1/completions, streamed and not, with the same text', async () => {
    const req = { model: 'default-model', prompt: 'The cat sat on the', temperature: 0, max_tokens: 10 };
    const r = await client.completions.create(req);
    expect(r.object).toBe('text_completion');
    expect(r.choices[0]!.text.length).toBeGreaterThan(0);
    let text = '';
    for await (const c of await client.completions.create({ ...req, stream: true })) text += c.choices[0]?.text ?? '';
    expect(text).toBe(r.choices[0]!.text);
  });

  it('honours stop (cut before the stop text), max_tokens, and seed for sampling', async () => {
    const base = await client.completions.create({ model: 'default-model', prompt: 'Once upon a time', temperature: 0, max_tokens: 20 });
    const full = base.choices[0]!.text;
    const stop = full.slice(3, 5);
    expect(stop.length).toBe(2);
    const cut = await client.completions.create({ model: 'default-model', prompt: 'Once upon a time', temperature: 0, max_tokens: 20, stop: [stop] });
    expect(cut.choices[0]!.text).toBe(full.slice(0, full.indexOf(stop)));
    expect(cut.choices[0]!.finish_reason).toBe('stop');
    let streamed = '';
    for await (const c of await client.completions.create({ model: 'default-model', prompt: 'Once upon a time', temperature: 0, max_tokens: 20, stop, stream: true })) streamed += c.choices[0]?.text ?? '';
    expect(streamed).toBe(cut.choices[0]!.text);

    const one = await client.completions.create({ model: 'default-model', prompt: 'Once upon a time', temperature: 0, max_tokens: 3 });
    expect(one.usage!.completion_tokens).toBeLessThanOrEqual(3);
    expect(one.choices[0]!.finish_reason).toBe('length');

    const sample = (seed: number) => client.completions.create({ model: 'default-model', prompt: 'Once upon a time', temperature: 1.5, top_p: 0.95, seed, max_tokens: 16 }).then((x) => x.choices[0]!.text);
    const [s1, s1again, s2, s3] = [await sample(1), await sample(1), await sample(2), await sample(3)];
    expect(s1again).toBe(s1);
    expect(new Set([s1, s2, s3]).size).toBeGreaterThan(1);
  });

  it('serves concurrent requests for different models with the results of sequential ones (greedy)', async () => {
    const reqs = [
      { model: 'default-model', messages: ask('Name a city.') },
      { model: 'alpha', messages: ask('Name a city.') },
      { model: 'beta', messages: ask('Name a city.') },
      { model: 'alpha', messages: ask('Reverse the words: red blue') },
      { model: 'default-model', messages: ask('Reverse the words: red blue') },
    ].map((r) => ({ ...r, temperature: 0, max_tokens: 12 }));
    const sequential: string[] = [];
    for (const r of reqs) sequential.push((await client.chat.completions.create(r)).choices[0]!.message.content!);
    const concurrent = await Promise.all(
      reqs.map(async (r, i) => {
        if (i % 2 === 0) return (await client.chat.completions.create(r)).choices[0]!.message.content!;
        let s = '';
        for await (const c of await client.chat.completions.create({ ...r, stream: true })) s += c.choices[0]?.delta.content ?? '';
        return s;
      }),
    );
    expect(concurrent).toEqual(sequential);
    // Adapters chosen by name change the output; the base name gives the base model (adapters off).
    expect(sequential[1]).not.toBe(sequential[0]);
    expect(sequential[2]).not.toBe(sequential[0]);
    expect(sequential[2]).not.toBe(sequential[1]);
    expect(sequential[3]).not.toBe(sequential[4]);
  });

  it('answers bad requests with 4xx errors in OpenAI’s shape', async () => {
    const err = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return e as InstanceType<typeof OpenAI.APIError>;
      }
      throw new Error('expected the request to fail');
    };
    const unknown = await err(client.chat.completions.create({ model: 'gpt-4o', messages: ask('hi') }));
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown.status).toBe(404);
    expect(unknown.message).toContain("The model 'gpt-4o' does not exist; available models: default-model, alpha, beta");
    expect(unknown.code).toBe('model_not_found');

    const missing = await err(client.chat.completions.create({ model: 'alpha' } as never));
    expect(missing).toBeInstanceOf(OpenAI.BadRequestError);
    expect(missing.param).toBe('messages');
    expect(missing.message).toContain("'messages' is required");

    const wrongType = await err(client.chat.completions.create({ model: 'alpha', messages: ask('hi'), temperature: 'hot' as never }));
    expect(wrongType.status).toBe(400);
    expect(wrongType.param).toBe('temperature');
    expect(wrongType.message).toContain("'temperature' must be a number, got string \"hot\"");

    const badRole = await err(client.chat.completions.create({ model: 'alpha', messages: [{ role: 'robot', content: 'hi' }] as never }));
    expect(badRole.param).toBe('messages[0].role');
    expect((await err(client.completions.create({ model: 'alpha', prompt: 'x', n: 2 }))).param).toBe('n');
    expect((await err(client.completions.create({ model: 'alpha', prompt: 'x', max_tokens: 100_000 }))).code).toBe('context_length_exceeded');
    expect((await err(client.completions.create({ model: 'alpha', prompt: 42 as never }))).param).toBe('prompt');

    const badJson = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "alpha", ' });
    expect(badJson.status).toBe(400);
    const body = (await badJson.json()) as { error: { message: string; type: string; code: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.code).toBe('invalid_json');
    expect(body.error.message).toContain('could not parse the JSON body');

    const route = await fetch(`${url}/embeddings`, { method: 'POST', body: '{}' });
    expect(route.status).toBe(404);
    expect(((await route.json()) as { error: { message: string } }).error.message).toContain('this server answers GET /v1/models');
    expect((await fetch(`${url}/chat/completions`)).status).toBe(405);
  });

  it('keeps each adapter\'s modules_to_save apart: two adapters saving embed_tokens each run their own, the base name still gives the base model', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-serve-mts-'));
    const { model } = await loadModel(MODEL);
    // As two default runs: both adapters save embed_tokens, each with its own trained values.
    const cfg = { r: 4, loraAlpha: 8, targetModules: ['q_proj'], modulesToSave: ['embed_tokens'] };
    const peft = new PeftModel(model, cfg, 'embed', { generator: new Generator(4) });
    peft.addAdapter('embed2', cfg, { generator: new Generator(6) });
    const embedding = model.namedParameters().find(([p]) => p.endsWith('embed_tokens.weight'))![1];
    embedding.assign(embedding.add(randn(embedding.shape, { generator: new Generator(5) }).mul(0.5)));
    await saveAdapter(peft, path.join(dir, 'embed'), 'embed');
    peft.setAdapter('embed2');
    embedding.assign(embedding.add(randn(embedding.shape, { generator: new Generator(7) }).mul(0.5)));
    await saveAdapter(peft, path.join(dir, 'embed2'), 'embed2');
    const start = (names: string[]) => serveCommand({ model: MODEL, adapter: names.map((name) => ({ name, dir: path.join(dir, name) })), host: '127.0.0.1', port: 0, quiet: true });
    const both = await start(['embed', 'embed2']);
    const alone = await start(['embed2']);
    try {
      const c = new OpenAI({ baseURL: both.url, apiKey: 'unused', maxRetries: 0 });
      const cAlone = new OpenAI({ baseURL: alone.url, apiKey: 'unused', maxRetries: 0 });
      const req = { prompt: 'The cat sat on the', temperature: 0, max_tokens: 12 };
      const ask1 = async (client: OpenAI, model: string) => (await client.completions.create({ ...req, model })).choices[0]!.text;
      // An order that switches through every pair: each name must answer the same every time.
      const embed2 = await ask1(c, 'embed2');
      const baseHere = await ask1(c, 'default-model');
      const embed = await ask1(c, 'embed');
      const embed2Again = await ask1(c, 'embed2');
      const embedAgain = await ask1(c, 'embed');
      const baseAgain = await ask1(c, 'default-model');
      const baseElsewhere = await ask1(client, 'default-model');
      expect(embed).not.toBe(baseHere);
      expect(embed2).not.toBe(embed);
      expect(embed2).toBe(await ask1(cAlone, 'embed2')); // the second adapter loaded runs its own values, not the first's
      expect(embed2Again).toBe(embed2);
      expect(embedAgain).toBe(embed);
      expect(baseHere).toBe(baseElsewhere);
      expect(baseAgain).toBe(baseElsewhere);
    } finally {
      await new Promise((r) => both.server.close(r));
      await new Promise((r) => alone.server.close(r));
    }
  });
});
