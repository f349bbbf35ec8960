import { SafetensorsError } from './errors.js';
import { type SafetensorsHeader, type TensorInfo, parseHeaderJson, readHeaderSize } from './header.js';
import type { Dtype } from './dtypes.js';
import type { Safetensors, SafetensorsTensor } from './read.js';
import type { ByteSource } from './sources/byte-source.js';
import { type TypedArrayByDtype, bytesToTypedArray } from './typed-array.js';

/** Reads exactly `length` bytes, turning a short read into a clear error. */
async function readExactly(source: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  const bytes = await source.read(offset, length);
  if (bytes.byteLength !== length) {
    throw new SafetensorsError(
      `source returned ${bytes.byteLength} bytes for bytes ${offset}..${offset + length} of a ${source.size}-byte file`,
    );
  }
  return bytes;
}

/**
 * Lazy access to one safetensors file: `open` reads and validates only the header (8 bytes, then
 * N bytes, N checked against the real source size first); `tensor(name)` then reads exactly that
 * tensor's byte range.
 */
export class SafetensorsReader {
  private constructor(
    /** The source the tensors are read from. */
    readonly source: ByteSource,
    /** The validated header. */
    readonly header: SafetensorsHeader,
  ) {}

  /** Reads and validates the header of `source`; closes the source if the header is bad. */
  static async open(source: ByteSource): Promise<SafetensorsReader> {
    try {
      const size = source.size;
      if (!Number.isSafeInteger(size) || size < 0) throw new SafetensorsError(`source size ${size} is not a byte count`);
      const prefix = size >= 8 ? await readExactly(source, 0, 8) : new Uint8Array(0);
      const n = readHeaderSize(prefix, size);
      const headerBytes = await readExactly(source, 8, n);
      const dataStart = 8 + n;
      const { metadata, tensors } = parseHeaderJson(headerBytes, size - dataStart);
      return new SafetensorsReader(source, { headerSize: n, dataStart, dataSize: size - dataStart, metadata, tensors });
    } catch (err) {
      await source.close?.();
      throw err;
    }
  }

  /** The `__metadata__` map. */
  get metadata(): Readonly<Record<string, string>> {
    return this.header.metadata;
  }

  /** Tensor names in file order. */
  names(): string[] {
    return [...this.header.tensors.keys()];
  }

  /** True when the file holds a tensor called `name`. */
  has(name: string): boolean {
    return this.header.tensors.has(name);
  }

  /** The dtype, shape and offsets of `name`, without reading its data. */
  info(name: string): TensorInfo {
    const info = this.header.tensors.get(name);
    if (!info) {
      const some = this.names().slice(0, 5).map((n) => JSON.stringify(n));
      throw new SafetensorsError(
        `no tensor ${JSON.stringify(name)} in this file (it has ${this.header.tensors.size}${some.length ? `: ${some.join(', ')}${this.header.tensors.size > 5 ? ', ...' : ''}` : ''})`,
      );
    }
    return info;
  }

  /** Reads one tensor's bytes from the source. */
  async tensor(name: string): Promise<SafetensorsTensor> {
    const info = this.info(name);
    const [b, e] = info.dataOffsets;
    const data = e === b ? new Uint8Array(0) : await readExactly(this.source, this.header.dataStart + b, e - b);
    return { dtype: info.dtype, shape: info.shape, data };
  }

  /** Reads one tensor as its natural typed array (see `toTypedArray`). */
  async typedArray<D extends Dtype = Dtype>(name: string): Promise<TypedArrayByDtype[D]> {
    const t = await this.tensor(name);
    return bytesToTypedArray(t.dtype as D, t.data);
  }

  /** Reads every tensor (one read per tensor). */
  async readAll(): Promise<Safetensors> {
    const tensors = new Map<string, SafetensorsTensor>();
    for (const name of this.header.tensors.keys()) tensors.set(name, await this.tensor(name));
    return { metadata: this.metadata, tensors };
  }

  /** Closes the source. */
  async close(): Promise<void> {
    await this.source.close?.();
  }

  /** Closes the source at the end of an `await using` block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
