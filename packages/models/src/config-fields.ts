// Reading fields of a Hugging Face config.json with errors that name the file, the field, the value
// and the fix. Shared by every model family of this package.

/** A parsed config.json object (unknown values, checked field by field). */
export type ConfigJSON = Record<string, unknown>;

function show(value: unknown): string {
  const s = JSON.stringify(value);
  return s === undefined ? String(value) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Parses config.json text (or passes an object through) into a plain object, or a clear error naming `where`. */
export function parseConfigJSON(source: string | ConfigJSON, where = 'config.json'): ConfigJSON {
  let value: unknown = source;
  if (typeof source === 'string') {
    try {
      value = JSON.parse(source);
    } catch (err) {
      throw new Error(`${where}: not valid JSON (${(err as Error).message}); pass the text of a Hugging Face config.json`);
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${where}: expected a JSON object, got ${show(value)}`);
  }
  return value as ConfigJSON;
}

/** Field reader bound to one config object and a name for messages (`config.json (llama)`). */
export class ConfigFields {
  constructor(
    readonly json: ConfigJSON,
    readonly where = 'config.json',
  ) {}

  /** True when the field is present and not null. */
  has(name: string): boolean {
    return this.json[name] !== undefined && this.json[name] !== null;
  }

  /** A finite number; `fallback` when absent (an error when absent and no fallback). */
  number(name: string, fallback?: number): number {
    const v = this.json[name];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new Error(`${this.where}: missing "${name}"; add it (a number) to config.json`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${this.where}: "${name}" must be a finite number, got ${show(v)}`);
    return v;
  }

  /** A positive integer (a size or a count); `fallback` when absent. */
  positiveInt(name: string, fallback?: number): number {
    const v = this.number(name, fallback);
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${this.where}: "${name}" must be a positive integer, got ${show(this.json[name])}`);
    return v;
  }

  /** A non-negative integer (an index or a count that may be 0); `fallback` when absent. */
  nonNegativeInt(name: string, fallback?: number): number {
    const v = this.number(name, fallback);
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${this.where}: "${name}" must be a non-negative integer, got ${show(this.json[name])}`);
    return v;
  }

  /** A boolean; `fallback` when absent. */
  boolean(name: string, fallback: boolean): boolean {
    const v = this.json[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw new TypeError(`${this.where}: "${name}" must be true or false, got ${show(v)}`);
    return v;
  }

  /** A string; `fallback` when absent. */
  string(name: string, fallback?: string): string {
    const v = this.json[name];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new Error(`${this.where}: missing "${name}"; add it (a string) to config.json`);
    }
    if (typeof v !== 'string') throw new TypeError(`${this.where}: "${name}" must be a string, got ${show(v)}`);
    return v;
  }

  /** One of a fixed set of strings; `fallback` when absent. */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
    const v = this.string(name, fallback);
    if (!(allowed as readonly string[]).includes(v)) {
      throw new RangeError(`${this.where}: "${name}" is ${show(v)}, which is not supported; expected one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
    }
    return v as T;
  }

  /** A token id or a list of them (HF writes eos_token_id either way); [] when absent. */
  tokenIds(name: string): number[] {
    const v = this.json[name];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    for (const id of list) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
        throw new TypeError(`${this.where}: "${name}" must be a token id or a list of token ids, got ${show(v)}`);
      }
    }
    return list as number[];
  }

  /** A single optional token id (null when absent). */
  tokenId(name: string): number | null {
    const ids = this.tokenIds(name);
    if (ids.length > 1) throw new TypeError(`${this.where}: "${name}" must be a single token id, got ${show(this.json[name])}`);
    return ids[0] ?? null;
  }

  /** A nested object (null when absent). */
  object(name: string): ConfigJSON | null {
    const v = this.json[name];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${this.where}: "${name}" must be an object, got ${show(v)}`);
    return v as ConfigJSON;
  }
}
