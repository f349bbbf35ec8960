import fc from 'fast-check';
import { DTYPES, type Dtype, type ByteSource, type TensorInput, dtypeByteSize } from '../src/index.js';

/** Property run count: FC_NUM_RUNS from the environment, else 100. */
export const NUM_RUNS = (() => {
  const n = Number.parseInt(process.env.FC_NUM_RUNS ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

const encoder = new TextEncoder();

/**
 * Builds a file by hand from the spec, independently of the writer: 8-byte little-endian header
 * length, the header text as given (no padding added), then the data bytes.
 */
export function handBuiltFile(header: string, data: ArrayLike<number> = [], headerLength?: bigint): Uint8Array {
  const h = encoder.encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** Little-endian bytes of float32 values. */
export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

/** Arbitrary shape: 0 to 4 dims of 0 to 5 (scalars and empty tensors included). */
export const shapeArb = fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 });

/** Arbitrary tensor of any dtype with random bytes of the right length. */
export const tensorArb: fc.Arbitrary<TensorInput> = fc
  .record({ dtype: fc.constantFrom<Dtype>(...DTYPES), shape: shapeArb })
  .chain(({ dtype, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1) * dtypeByteSize(dtype);
    return fc.uint8Array({ minLength: n, maxLength: n }).map((data) => ({ dtype, shape, data }));
  });

/** Arbitrary tensor name: any Unicode text except the reserved key. */
export const nameArb = fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => s !== '__metadata__');

/** Arbitrary set of named tensors (unique names). */
export const tensorsArb = fc
  .uniqueArray(fc.tuple(nameArb, tensorArb), { selector: ([name]) => name, maxLength: 8 })
  .map((pairs) => new Map(pairs));

/** Arbitrary `__metadata__` map. */
export const metadataArb = fc.option(
  fc.dictionary(fc.string({ unit: 'binary', maxLength: 10 }), fc.string({ unit: 'binary', maxLength: 20 }), {
    maxKeys: 4,
  }),
  { nil: undefined },
);

/** A ByteSource wrapper that records every read, to prove readers read only what they need. */
export function countingSource(inner: ByteSource): ByteSource & { reads: Array<[number, number]>; bytesRead: () => number } {
  const reads: Array<[number, number]> = [];
  return {
    size: inner.size,
    reads,
    bytesRead: () => reads.reduce((sum, [, len]) => sum + len, 0),
    read(offset, length) {
      reads.push([offset, length]);
      if (offset < 0 || length < 0 || offset + length > inner.size) {
        throw new Error(`out-of-bounds read ${offset}+${length} of a ${inner.size}-byte source`);
      }
      return inner.read(offset, length);
    },
    close: () => inner.close?.(),
  };
}
