import { readText, sourceName, type DataSource } from './data-source.js';

/** Reads a JSON file holding an array of records (or an object whose single array field holds them, e.g. `{ "data": [...] }`). */
export async function* readJsonArray<T = Record<string, unknown>>(source: DataSource): AsyncGenerator<T> {
  const text = await readText(source);
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new Error(`${sourceName(source)}: invalid JSON (${(err as Error).message}); if the file has one record per line, read it as JSON Lines (readJsonl)`);
  }
  if (!Array.isArray(value)) {
    const arrays = value && typeof value === 'object' ? Object.entries(value).filter(([, v]) => Array.isArray(v)) : [];
    if (arrays.length !== 1) throw new Error(`${sourceName(source)}: expected a JSON array of records, got ${Array.isArray(value) ? 'array' : typeof value}${arrays.length > 1 ? ` with array fields ${arrays.map(([k]) => k).join(', ')}` : ''}; store the records as a top-level array`);
    value = arrays[0]![1];
  }
  yield* value as T[];
}
