import type { Server } from 'node:http';
import { createOpenAiServer } from '../serve/openai-server.js';
import { ServedModel, type AdapterSpec } from '../serve/served-model.js';

/** Parses one `--adapter name=DIR` value. */
export function parseAdapterSpec(v: string): AdapterSpec {
  const eq = v.indexOf('=');
  if (eq <= 0 || eq === v.length - 1) throw new Error(`--adapter "${v}": expected name=DIR (e.g. --adapter support=runs/x/adapter)`);
  return { name: v.slice(0, eq), dir: v.slice(eq + 1) };
}

/** `serve`: an OpenAI-compatible HTTP server for a base model and its adapters; resolves once listening. */
export async function serveCommand(o: { model: string; adapter: AdapterSpec[]; name?: string; host: string; port: number; quiet?: boolean }): Promise<{ server: Server; served: ServedModel; url: string }> {
  const log = (s: string): void => void (o.quiet || console.log(s));
  const served = await ServedModel.load(o.model, o.adapter, o.name);
  const server = createOpenAiServer(served, log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address();
  const url = `http://${o.host}:${typeof addr === 'object' && addr ? addr.port : o.port}/v1`;
  log(`serving ${served.names.map((n) => `"${n}"`).join(', ')} at ${url} (OpenAI-compatible; requests are served one at a time)`);
  return { server, served, url };
}
