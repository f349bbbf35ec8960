// The safetensors container, read and written in memory: an 8-byte little-endian header length, a
// JSON header { name: { dtype, shape, data_offsets }, __metadata__ }, then the data. A minimal
// whole-buffer reader/writer: @tessera/safetensors (lazy reads, strict validation) was being
// rewritten while this package was written; model-folder.ts's WeightEntry is where its lazy
// reader plugs in once its API settles.
import type { RawTensor } from './load-weights.js';

/** A parsed safetensors buffer: its tensors (views into the buffer) and string metadata. */
export interface SafetensorsContents {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/** Parses a whole .safetensors buffer; `where` names it in errors. */
export function parseSafetensors(bytes: Uint8Array, where = 'safetensors'): SafetensorsContents {
  if (bytes.byteLength < 8) throw new RangeError(`${where}: ${bytes.byteLength} bytes is too short for a safetensors file (needs an 8-byte header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.byteLength - 8) {
    throw new RangeError(`${where}: header length ${headerLength} exceeds the file (${bytes.byteLength} bytes); the file is truncated or not safetensors`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${where}: the header is not valid JSON (${(err as Error).message}); the file is damaged or not safetensors`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const tensors = new Map<string, RawTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const offsets = e.data_offsets as [number, number] | undefined;
    if (typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(offsets) || offsets.length !== 2) {
      throw new Error(`${where}: header entry "${name}" needs dtype, shape and data_offsets, got ${JSON.stringify(entry)}`);
    }
    const [begin, end] = offsets;
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && begin <= end && end <= dataLength)) {
      throw new RangeError(`${where}: "${name}" has data_offsets [${begin},${end}] outside the ${dataLength} data bytes; the file is truncated`);
    }
    tensors.set(name, { dtype: e.dtype, shape: e.shape as number[], data: bytes.subarray(dataStart + begin, dataStart + end) });
  }
  return { tensors, metadata };
}

/** Serialises tensors (raw bytes) and metadata into one .safetensors buffer, names sorted, header padded to 8 bytes. */
export function serializeSafetensors(tensors: Map<string, RawTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (new TextEncoder().encode(json).byteLength % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    out.set(d, at);
    at += d.byteLength;
  }
  return out;
}
