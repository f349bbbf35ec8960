/** In-memory text with a name for error messages. */
export interface TextSource {
  text: string;
  name?: string;
}

/**
 * Where data comes from: a file path (Node), a URL (fetched; `file:` URLs read from disk in Node),
 * a `File`/`Blob` (browser), a byte stream, an async iterable of chunks, or in-memory text.
 */
export type DataSource = string | URL | Blob | ReadableStream<Uint8Array> | AsyncIterable<string | Uint8Array> | TextSource;

/** A short name of a source for error messages: the path, URL or file name. */
export function sourceName(source: DataSource): string {
  if (typeof source === 'string') return source;
  if (source instanceof URL) return source.href;
  if (typeof Blob !== 'undefined' && source instanceof Blob) return (source as Blob & { name?: string }).name || 'Blob';
  if (isTextSource(source)) return source.name ?? '<text>';
  return '<stream>';
}

function isTextSource(s: unknown): s is TextSource {
  return typeof s === 'object' && s !== null && typeof (s as TextSource).text === 'string';
}

/** The file-name extension of a source ('jsonl', 'csv'...), lower-case, or '' when unknown. */
export function sourceExtension(source: DataSource): string {
  const name = sourceName(source).replace(/[?#].*$/, '');
  const m = /\.([a-z0-9]+)(?:\.gz)?$/i.exec(name);
  return m ? m[1]!.toLowerCase() : '';
}

async function* decodeBytes(chunks: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const c of chunks) yield typeof c === 'string' ? c : decoder.decode(c, { stream: true });
  const rest = decoder.decode();
  if (rest) yield rest;
}

async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

async function* fileChunks(path: string): AsyncGenerator<string> {
  const fs = await import('node:fs');
  const stream = fs.createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 16 });
  try {
    for await (const chunk of stream) yield chunk as string;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${path}: no such file; check the path (relative paths resolve from ${process.cwd()})`);
    throw new Error(`${path}: cannot read (${(err as Error).message})`);
  }
}

/** The text of a source as a stream of decoded chunks (UTF-8), read lazily. */
export async function* textChunks(source: DataSource): AsyncGenerator<string> {
  if (typeof source === 'string') return yield* fileChunks(source);
  if (isTextSource(source)) {
    yield source.text;
    return;
  }
  if (source instanceof URL) {
    if (source.protocol === 'file:') {
      const { fileURLToPath } = await import('node:url');
      return yield* fileChunks(fileURLToPath(source));
    }
    const res = await fetch(source);
    if (!res.ok || !res.body) throw new Error(`${source.href}: GET answered ${res.status}; check the address`);
    return yield* decodeBytes(streamChunks(res.body));
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) return yield* decodeBytes(streamChunks(source.stream() as ReadableStream<Uint8Array>));
  if (typeof (source as ReadableStream).getReader === 'function') return yield* decodeBytes(streamChunks(source as ReadableStream<Uint8Array>));
  if (Symbol.asyncIterator in (source as object)) return yield* decodeBytes(source as AsyncIterable<string | Uint8Array>);
  throw new Error(`data source: unsupported ${Object.prototype.toString.call(source)}; pass a path, URL, Blob/File, ReadableStream, async iterable or { text }`);
}

/** The whole text of a source. */
export async function readText(source: DataSource): Promise<string> {
  let s = '';
  for await (const c of textChunks(source)) s += c;
  return s;
}
