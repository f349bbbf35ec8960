import { type Dtype, assertDtype, dtypeByteSize, dtypeRank, shapeSize } from './dtypes.js';
import { SafetensorsError, describeValue } from './errors.js';
import { MAX_HEADER_SIZE } from './header.js';
import { checkViewKind, viewToLittleEndianBytes } from './typed-array.js';

/** A tensor to write: `data` holds its little-endian bytes (any typed array or byte view). */
export interface TensorInput {
  /** Element type. */
  readonly dtype: Dtype;
  /** Dimensions, outermost first; `[]` is a scalar. */
  readonly shape: readonly number[];
  /** The elements, row-major: a Uint8Array of raw bytes or a typed array of the matching kind. */
  readonly data: ArrayBufferView;
}

/** Tensors by name: a Map, a plain object, or any iterable of `[name, tensor]` pairs. */
export type NamedTensors<T> = ReadonlyMap<string, T> | Readonly<Record<string, T>> | Iterable<readonly [string, T]>;

/** Metadata to store under `__metadata__`: string keys to string values. */
export type SafetensorsMetadata = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

/** One tensor placed in the data buffer by `planLayout`. */
export interface PlacedTensor<T> {
  /** Tensor name. */
  readonly name: string;
  /** The caller's tensor object. */
  readonly tensor: T;
  /** Byte range in the data buffer. */
  readonly begin: number;
  /** End of the byte range (exclusive). */
  readonly end: number;
}

/** Everything a writer needs: the file prefix (length + header) and where each tensor goes. */
export interface SafetensorsLayout<T> {
  /** The first bytes of the file: 8-byte length, then the space-padded JSON header. */
  readonly prefix: Uint8Array;
  /** Tensors in the order their bytes follow the header. */
  readonly placed: readonly PlacedTensor<T>[];
  /** Total file size in bytes. */
  readonly fileSize: number;
}

/** Turns any `NamedTensors` into pairs, refusing a name given twice. */
export function namedEntries<T>(tensors: NamedTensors<T>): Array<[string, T]> {
  let pairs: Iterable<readonly [string, T]>;
  if (tensors instanceof Map) pairs = tensors.entries();
  else if (Symbol.iterator in (tensors as object)) pairs = tensors as Iterable<readonly [string, T]>;
  else pairs = Object.entries(tensors as Record<string, T>);
  const seen = new Set<string>();
  const out: Array<[string, T]> = [];
  for (const [name, t] of pairs) {
    if (seen.has(name)) throw new SafetensorsError(`tensor ${JSON.stringify(name)} is given twice`);
    seen.add(name);
    out.push([name, t]);
  }
  return out;
}

// A lone surrogate cannot be encoded as UTF-8; the Rust reader would reject the file.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') throw new SafetensorsError(`${what} is ${describeValue(value)}; expected a string`);
  if (LONE_SURROGATE.test(value)) {
    throw new SafetensorsError(`${what} ${describeValue(value)} contains a lone UTF-16 surrogate, which UTF-8 cannot encode`);
  }
}

/**
 * Orders strings by Unicode code point, which is the byte order of their UTF-8 encodings and
 * so the order Rust's `String` comparison gives (plain `<` compares UTF-16 units, which differs
 * for characters above U+FFFF).
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Move surrogates (U+D800–DFFF) above U+E000–FFFF, where the code points they encode sit.
    if (x >= 0xd800) x = x < 0xe000 ? x + 0x2000 : x - 0x800;
    if (y >= 0xd800) y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    return x - y;
  }
  return a.length - b.length;
}

const utf8 = new TextEncoder();

/**
 * Lays out a file the way the reference writer does: tensors sorted by dtype alignment
 * (descending, in the Rust `Dtype` enum order) then by name, compact JSON with `__metadata__`
 * first, header padded with spaces to a multiple of 8 so every tensor starts 8-byte aligned.
 * `byteLengthOf` reports a tensor's actual byte count when it is known now (checked against
 * dtype × shape); writers that fetch data later check it then.
 */
export function planLayout<T extends { readonly dtype: Dtype; readonly shape: readonly number[] }>(
  tensors: NamedTensors<T>,
  metadata?: SafetensorsMetadata,
  byteLengthOf?: (tensor: T, where: string) => number | undefined,
): SafetensorsLayout<T> {
  const entries = namedEntries(tensors).map(([name, tensor]) => {
    checkString(name, 'tensor name');
    const where = `tensor ${JSON.stringify(name)}`;
    if (name === '__metadata__') throw new SafetensorsError(`${where}: the name is reserved for the metadata map`);
    if (typeof tensor !== 'object' || tensor === null) {
      throw new SafetensorsError(`${where}: expected { dtype, shape, data }, got ${describeValue(tensor)}`);
    }
    assertDtype(tensor.dtype, where);
    if (!Array.isArray(tensor.shape)) {
      throw new SafetensorsError(`${where}: shape is ${describeValue(tensor.shape)}; expected an array of non-negative integers`);
    }
    const nbytes = shapeSize(tensor.shape, where) * dtypeByteSize(tensor.dtype);
    if (!Number.isSafeInteger(nbytes)) throw new SafetensorsError(`${where}: shape ${describeValue(tensor.shape)} is too large`);
    const actual = byteLengthOf?.(tensor, where);
    if (actual !== undefined && actual !== nbytes) {
      throw new SafetensorsError(
        `${where}: data holds ${actual} bytes but dtype ${tensor.dtype} × shape ${describeValue(tensor.shape)} needs ${nbytes}`,
      );
    }
    return { name, tensor, nbytes, rank: dtypeRank(tensor.dtype) };
  });
  entries.sort((a, b) => b.rank - a.rank || compareCodePoints(a.name, b.name));

  const parts: string[] = [];
  if (metadata !== undefined) {
    const pairs = metadata instanceof Map ? [...metadata] : Object.entries(metadata);
    const body = pairs.map(([k, v]) => {
      checkString(k, '__metadata__ key');
      checkString(v, `__metadata__[${JSON.stringify(k)}]`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${body.join(',')}}`);
  }
  const placed: PlacedTensor<T>[] = [];
  let offset = 0;
  for (const { name, tensor, nbytes } of entries) {
    const begin = offset;
    offset += nbytes;
    if (!Number.isSafeInteger(offset)) throw new SafetensorsError(`the tensors add up to more than 2^53 bytes`);
    placed.push({ name, tensor, begin, end: offset });
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${tensor.dtype}","shape":[${tensor.shape.join(',')}],"data_offsets":[${begin},${offset}]}`,
    );
  }
  const json = utf8.encode(`{${parts.join(',')}}`);
  const headerSize = Math.ceil(json.byteLength / 8) * 8;
  if (headerSize > MAX_HEADER_SIZE) {
    throw new SafetensorsError(`header would be ${headerSize} bytes, over the ${MAX_HEADER_SIZE}-byte limit readers enforce`);
  }
  const prefix = new Uint8Array(8 + headerSize);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerSize), true);
  prefix.set(json, 8);
  prefix.fill(0x20, 8 + json.byteLength);
  return { prefix, placed, fileSize: prefix.byteLength + offset };
}

function viewByteLength(t: TensorInput, where: string): number | undefined {
  if (!ArrayBuffer.isView(t.data)) {
    throw new SafetensorsError(`${where}: data must be a typed array or DataView, got ${describeValue(t.data)}`);
  }
  checkViewKind(t.dtype, t.data, where);
  return t.data.byteLength;
}

/** Serializes tensors (and optional string metadata) into the bytes of one safetensors file. */
export function serializeSafetensors(
  tensors: NamedTensors<TensorInput>,
  metadata?: SafetensorsMetadata,
): Uint8Array<ArrayBuffer> {
  const layout = planLayout(tensors, metadata, viewByteLength);
  const out = new Uint8Array(layout.fileSize);
  out.set(layout.prefix, 0);
  const start = layout.prefix.byteLength;
  for (const { tensor, begin } of layout.placed) out.set(viewToLittleEndianBytes(tensor.data), start + begin);
  return out;
}
