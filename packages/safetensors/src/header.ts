import { type Dtype, assertDtype, dtypeByteSize, shapeSize } from './dtypes.js';
import { SafetensorsError, describeValue } from './errors.js';

/**
 * Largest header accepted, in bytes: the Rust crate's `MAX_HEADER_SIZE`, so a file either
 * implementation refuses the other refuses too, and a reader never allocates more than this for
 * a header whatever the length prefix claims.
 */
export const MAX_HEADER_SIZE = 100_000_000;

/** Where one tensor lives in the data buffer, as the header declares it. */
export interface TensorInfo {
  /** Element type. */
  readonly dtype: Dtype;
  /** Dimensions, outermost first; `[]` is a scalar. */
  readonly shape: readonly number[];
  /** `[begin, end)` byte range relative to the start of the data buffer (not the file). */
  readonly dataOffsets: readonly [number, number];
}

/** A parsed and fully validated header. */
export interface SafetensorsHeader {
  /** N, the length of the JSON header in bytes (padding included). */
  readonly headerSize: number;
  /** Absolute file offset of the data buffer: 8 + N. */
  readonly dataStart: number;
  /** Length of the data buffer in bytes; the tensors cover it exactly. */
  readonly dataSize: number;
  /** The `__metadata__` string map (empty when the header has none). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensors in file order (by data offset). */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
}

/**
 * Reads and bounds-checks the 8-byte little-endian header length at the start of a file of
 * `fileSize` bytes. Checks happen before anything of that length is allocated.
 */
export function readHeaderSize(prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8) {
    throw new SafetensorsError(`file is ${fileSize} bytes; a safetensors file starts with an 8-byte header length`);
  }
  if (prefix.byteLength < 8) {
    throw new SafetensorsError(`readHeaderSize needs the first 8 bytes of the file but got ${prefix.byteLength}`);
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const claimed = view.getBigUint64(0, true);
  if (claimed > BigInt(MAX_HEADER_SIZE)) {
    throw new SafetensorsError(
      `header length ${claimed} exceeds the ${MAX_HEADER_SIZE}-byte limit (file is ${fileSize} bytes)`,
    );
  }
  const n = Number(claimed);
  if (n < 2) {
    throw new SafetensorsError(`header length ${n} is below 2; the smallest header is "{}"`);
  }
  if (n > fileSize - 8) {
    throw new SafetensorsError(
      `header length ${n} runs past the end of the file: only ${fileSize - 8} bytes follow the 8-byte length prefix`,
    );
  }
  return n;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function formatOffsets([b, e]: readonly [number, number]): string {
  return `[${b}, ${e}]`;
}

/**
 * Parses the N header bytes (UTF-8 JSON) and validates every entry against a data buffer of
 * `dataSize` bytes: known dtype, integer shape, offsets inside the buffer, byte count matching
 * dtype × shape, and tensors that tile the buffer exactly (no overlap, hole or trailing bytes),
 * as the Rust crate requires.
 */
export function parseHeaderJson(
  headerBytes: Uint8Array,
  dataSize: number,
): { metadata: Record<string, string>; tensors: Map<string, TensorInfo> } {
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch (cause) {
    throw new SafetensorsError(`header (${headerBytes.byteLength} bytes) is not valid UTF-8`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new SafetensorsError(
      `header is not valid JSON (${(cause as Error).message}); it starts with ${describeValue(text.slice(0, 40))}`,
      { cause },
    );
  }
  if (!isPlainObject(json)) {
    throw new SafetensorsError(`header must be a JSON object of tensors, got ${kindOf(json)}`);
  }

  let metadata: Record<string, string> = {};
  const entries: Array<[string, TensorInfo]> = [];
  for (const name of Object.keys(json)) {
    const value = json[name];
    if (name === '__metadata__') {
      metadata = parseMetadata(value);
      continue;
    }
    entries.push([name, parseEntry(name, value, dataSize)]);
  }

  // Sorting by (begin, end) puts zero-byte tensors before the tensor that starts where they sit,
  // so a correct file is then a chain where each tensor starts where the previous one ended.
  entries.sort(([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let end = 0;
  let previous: [string, TensorInfo] | undefined;
  for (const entry of entries) {
    const [name, info] = entry;
    const [b] = info.dataOffsets;
    if (b > end) {
      throw new SafetensorsError(
        previous
          ? `tensor ${JSON.stringify(name)} starts at byte ${b} of the data buffer but tensor ${JSON.stringify(previous[0])} ends at ${end}: bytes ${end}..${b} belong to no tensor (a hole)`
          : `tensor ${JSON.stringify(name)} starts at byte ${b} of the data buffer: bytes 0..${b} belong to no tensor (a hole); the first tensor must start at 0`,
      );
    }
    if (b < end && previous) {
      throw new SafetensorsError(
        `tensor ${JSON.stringify(name)}: data_offsets ${formatOffsets(info.dataOffsets)} overlap tensor ${JSON.stringify(previous[0])} at data_offsets ${formatOffsets(previous[1].dataOffsets)}`,
      );
    }
    end = info.dataOffsets[1];
    previous = entry;
  }
  if (end !== dataSize) {
    throw new SafetensorsError(
      `tensors cover bytes 0..${end} of the ${dataSize}-byte data buffer: the last ${dataSize - end} bytes belong to no tensor (trailing data)`,
    );
  }
  return { metadata, tensors: new Map(entries) };
}

function parseMetadata(value: unknown): Record<string, string> {
  // The Rust crate reads `__metadata__` as Option<HashMap<String, String>>: null means none.
  if (value === null) return {};
  if (!isPlainObject(value)) {
    throw new SafetensorsError(`__metadata__ must be an object of strings, got ${kindOf(value)}`);
  }
  const out: Array<[string, string]> = [];
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (typeof v !== 'string') {
      throw new SafetensorsError(
        `__metadata__[${JSON.stringify(key)}] is ${describeValue(v)}; metadata values must be strings`,
      );
    }
    out.push([key, v]);
  }
  // fromEntries defines own properties, so a key like "__proto__" stays data, never a prototype.
  return Object.fromEntries(out);
}

function parseEntry(name: string, value: unknown, dataSize: number): TensorInfo {
  const where = `tensor ${JSON.stringify(name)}`;
  if (!isPlainObject(value)) {
    throw new SafetensorsError(
      `${where}: entry must be an object with dtype, shape and data_offsets, got ${kindOf(value)}`,
    );
  }
  const { dtype, shape, data_offsets: offsets } = value;
  assertDtype(dtype, where);
  if (!Array.isArray(shape)) {
    throw new SafetensorsError(`${where}: shape is ${describeValue(shape)}; expected an array of non-negative integers`);
  }
  const numel = shapeSize(shape, where);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
  ) {
    throw new SafetensorsError(
      `${where}: data_offsets is ${describeValue(offsets)}; expected [begin, end] with non-negative integers`,
    );
  }
  const dataOffsets = [offsets[0], offsets[1]] as [number, number];
  const [b, e] = dataOffsets;
  if (b > e) {
    throw new SafetensorsError(`${where}: data_offsets ${formatOffsets(dataOffsets)} has begin > end`);
  }
  if (e > dataSize) {
    throw new SafetensorsError(
      `${where}: data_offsets ${formatOffsets(dataOffsets)} run past the end of the ${dataSize}-byte data buffer`,
    );
  }
  const needed = numel * dtypeByteSize(dtype);
  if (needed !== e - b) {
    throw new SafetensorsError(
      `${where}: data_offsets ${formatOffsets(dataOffsets)} hold ${e - b} bytes but dtype ${dtype} × shape ${describeValue(shape)} needs ${needed}`,
    );
  }
  return { dtype, shape: shape.slice() as number[], dataOffsets };
}

/**
 * Parses and validates the header of a safetensors file. `bytes` holds at least the first 8 + N
 * bytes of the file (or all of it); `fileSize` is the whole file's size, which defaults to
 * `bytes.byteLength`.
 */
export function parseHeader(bytes: Uint8Array | ArrayBuffer, fileSize?: number): SafetensorsHeader {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const size = fileSize ?? u8.byteLength;
  const headerSize = readHeaderSize(u8, size);
  const dataStart = 8 + headerSize;
  if (u8.byteLength < dataStart) {
    throw new SafetensorsError(
      `parseHeader needs the first ${dataStart} bytes of the file (8 + header length ${headerSize}) but got ${u8.byteLength}`,
    );
  }
  const dataSize = size - dataStart;
  const { metadata, tensors } = parseHeaderJson(u8.subarray(8, dataStart), dataSize);
  return { headerSize, dataStart, dataSize, metadata, tensors };
}
