import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SafetensorsReader,
  arrayBufferSource,
  blobSource,
  dtypeByteSize,
  readSafetensors,
  serializeSafetensors,
  toTypedArray,
} from '../src/index.js';
import { NUM_RUNS, handBuiltFile, metadataArb, tensorsArb } from './helpers.js';

describe('round trips', () => {
  it('serialize → read gives back every tensor and the metadata', () => {
    fc.assert(
      fc.property(tensorsArb, metadataArb, (tensors, metadata) => {
        const bytes = serializeSafetensors(tensors, metadata);
        const file = readSafetensors(bytes);
        expect(file.metadata).toEqual(metadata ?? {});
        expect(new Set(file.tensors.keys())).toEqual(new Set(tensors.keys()));
        for (const [name, t] of tensors) {
          const got = file.tensors.get(name)!;
          expect(got.dtype).toBe(t.dtype);
          expect(got.shape).toEqual(t.shape);
          expect(got.data).toEqual(t.data);
          // Data are views into the file, aligned for their element type.
          expect(got.data.buffer).toBe(bytes.buffer);
          expect(got.data.byteOffset % dtypeByteSize(got.dtype)).toBe(0);
        }
        // Writing what was read reproduces the file exactly (the layout is deterministic).
        expect(serializeSafetensors(file.tensors, metadata)).toEqual(bytes);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the lazy reader over an ArrayBuffer and a Blob gives the same tensors', async () => {
    await fc.assert(
      fc.asyncProperty(tensorsArb, metadataArb, async (tensors, metadata) => {
        const bytes = serializeSafetensors(tensors, metadata);
        for (const source of [arrayBufferSource(bytes.buffer as ArrayBuffer), blobSource(new Blob([bytes]))]) {
          const reader = await SafetensorsReader.open(source);
          expect(reader.metadata).toEqual(metadata ?? {});
          expect(new Set(reader.names())).toEqual(new Set(tensors.keys()));
          for (const [name, t] of tensors) {
            const got = await reader.tensor(name);
            expect(got.dtype).toBe(t.dtype);
            expect(got.shape).toEqual(t.shape);
            expect(got.data).toEqual(t.data);
          }
          await reader.close();
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('typed arrays round trip for every dtype', () => {
    const arrays = {
      F64: new Float64Array([1.5, -0, Number.MAX_VALUE]),
      F32: new Float32Array([0.25, -3]),
      F16: new Uint16Array([0x3c00]),
      BF16: new Uint16Array([0x3f80, 0xffff]),
      I64: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
      I32: new Int32Array([-(2 ** 31)]),
      I16: new Int16Array([-32768, 32767]),
      I8: new Int8Array([-128]),
      U8: new Uint8Array([255]),
      BOOL: new Uint8Array([0, 1]),
      U16: new Uint16Array([65535]),
      U32: new Uint32Array([2 ** 32 - 1]),
      U64: new BigUint64Array([2n ** 64n - 1n]),
    } as const;
    const tensors = Object.fromEntries(
      Object.entries(arrays).map(([dtype, data]) => [dtype, { dtype: dtype as keyof typeof arrays, shape: [data.length], data }]),
    );
    const file = readSafetensors(serializeSafetensors(tensors));
    for (const [dtype, data] of Object.entries(arrays)) {
      const got = toTypedArray(file.tensors.get(dtype)!);
      expect(got.constructor).toBe(data.constructor);
      expect(got).toEqual(data);
    }
  });

  it('copies when the bytes are not aligned for the typed array, views when they are', () => {
    const backing = new Uint8Array(9);
    const misaligned = backing.subarray(1);
    new DataView(misaligned.buffer, 1).setFloat32(0, 1.5, true);
    new DataView(misaligned.buffer, 1).setFloat32(4, -2, true);
    const arr = toTypedArray({ dtype: 'F32', data: misaligned });
    expect([...arr]).toEqual([1.5, -2]);
    expect(arr.buffer).not.toBe(backing.buffer);
    const aligned = toTypedArray({ dtype: 'F32', data: new Uint8Array(backing.buffer, 4, 4) });
    expect(aligned.buffer).toBe(backing.buffer);
  });

  it('toTypedArray copies unaligned bytes out of a Node Buffer (whose slice() does not copy)', () => {
    // A U8 tensor of 3 bytes puts the F32 after it at an odd offset, as hand-written files may.
    const file = Buffer.from(handBuiltFile(`{"b":${JSON.stringify({ dtype: 'U8', shape: [3], data_offsets: [0, 3] })},"f":${JSON.stringify({ dtype: 'F32', shape: [1], data_offsets: [3, 7] })}}`, [1, 2, 3, ...new Uint8Array(new Float32Array([2.5]).buffer)]));
    const f = readSafetensors(file).tensors.get('f')!;
    expect(f.data.byteOffset % 4).not.toBe(0);
    expect([...toTypedArray(f)]).toEqual([2.5]);
  });

  it('accepts ArrayBuffer input as well as Uint8Array', () => {
    const bytes = serializeSafetensors({ x: { dtype: 'I32', shape: [1], data: new Int32Array([42]) } });
    const copy = bytes.slice().buffer;
    expect([...toTypedArray(readSafetensors(copy).tensors.get('x')!)]).toEqual([42]);
  });
});

describe('writer validation', () => {
  const f32 = (n: number) => new Float32Array(n);
  it('rejects data whose size does not match dtype × shape', () => {
    expect(() => serializeSafetensors({ w: { dtype: 'F32', shape: [5, 6], data: f32(25) } })).toThrow(
      'safetensors: tensor "w": data holds 100 bytes but dtype F32 × shape [5,6] needs 120',
    );
  });
  it('rejects unknown dtypes, bad shapes, reserved and ill-formed names, non-string metadata', () => {
    expect(() => serializeSafetensors({ w: { dtype: 'F8' as never, shape: [1], data: f32(1) } })).toThrow(/tensor "w": dtype "F8" is not one of/);
    expect(() => serializeSafetensors({ w: { dtype: 'F32', shape: [-1], data: f32(1) } })).toThrow(/dimension 0 = -1/);
    expect(() => serializeSafetensors({ __metadata__: { dtype: 'F32', shape: [1], data: f32(1) } })).toThrow(/reserved/);
    expect(() => serializeSafetensors({ ['a\uD800']: { dtype: 'F32', shape: [1], data: f32(1) } })).toThrow(/lone UTF-16 surrogate/);
    expect(() => serializeSafetensors({}, { k: 1 as never })).toThrow('safetensors: __metadata__["k"] is 1; expected a string');
    expect(() => serializeSafetensors({ w: { dtype: 'F32', shape: [1], data: [1] as never } })).toThrow(/tensor "w": data must be a typed array/);
  });
  it('rejects a typed array of the wrong kind for the dtype, even when the byte count matches', () => {
    expect(() => serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float64Array(1) } })).toThrow(
      'safetensors: tensor "w": data is a Float64Array but dtype F32 takes a Float32Array (or raw bytes as a Uint8Array); convert the values, e.g. Float32Array.from(data), or give the right dtype',
    );
    // F16/BF16 point at the rounding to half bits, not Uint16Array.from (which would truncate the floats).
    expect(() => serializeSafetensors({ w: { dtype: 'BF16', shape: [2], data: new Float32Array(1) } })).toThrow(
      'safetensors: tensor "w": data is a Float32Array but dtype BF16 takes a Uint16Array (or raw bytes as a Uint8Array); round the values to BF16 bit patterns, e.g. Uint16Array.from(data, f32ToBf16) with f32ToBf16 from @tessera/tensor, or give the right dtype',
    );
    expect(() => serializeSafetensors({ w: { dtype: 'F16', shape: [2], data: new Float32Array(1) } })).toThrow(/Uint16Array\.from\(data, f32ToF16\) with f32ToF16 from @tessera\/tensor/);
    expect(() => serializeSafetensors({ w: { dtype: 'I64', shape: [1], data: new Float64Array(1) } })).toThrow(/dtype I64 takes a BigInt64Array/);
    // Raw bytes fit any dtype; the matching kind is accepted.
    expect(() => serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Uint8Array(8) } })).not.toThrow();
    expect(() => serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: new DataView(new ArrayBuffer(8)) } })).not.toThrow();
    expect(() => serializeSafetensors({ w: { dtype: 'F16', shape: [2], data: new Uint16Array(2) } })).not.toThrow();
  });
  it('rejects duplicate names from an iterable', () => {
    const t = { dtype: 'U8' as const, shape: [], data: new Uint8Array(1) };
    expect(() => serializeSafetensors([['a', t], ['a', t]])).toThrow('safetensors: tensor "a" is given twice');
  });
});
