import { describe, expect, it } from 'vitest';
import { MAX_HEADER_SIZE, SafetensorsError, parseHeader, readSafetensors } from '../src/index.js';
import { handBuiltFile } from './helpers.js';

/** Expects `readSafetensors(bytes)` to throw a SafetensorsError whose message is exactly `message`. */
function expectError(bytes: Uint8Array, message: string): void {
  let error: unknown;
  try {
    readSafetensors(bytes);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SafetensorsError);
  expect((error as Error).message).toBe(`safetensors: ${message}`);
}

const entry = (dtype: string, shape: unknown, offsets: unknown) =>
  JSON.stringify({ dtype, shape, data_offsets: offsets });

describe('header validation', () => {
  it('parses a valid header', () => {
    const file = handBuiltFile(`{"__metadata__":{"a":"b"},"w":${entry('F32', [2], [0, 8])}}`, new Uint8Array(8));
    const h = parseHeader(file);
    expect(h.metadata).toEqual({ a: 'b' });
    expect(h.tensors.get('w')).toEqual({ dtype: 'F32', shape: [2], dataOffsets: [0, 8] });
    expect(h.dataStart).toBe(file.length - 8);
    expect(h.dataSize).toBe(8);
  });

  it('rejects files too short for the length prefix', () => {
    expectError(new Uint8Array(5), 'file is 5 bytes; a safetensors file starts with an 8-byte header length');
  });

  it('rejects header lengths below 2, above 100 MB, and past the end of the file', () => {
    expectError(handBuiltFile('{}', [], 1n), 'header length 1 is below 2; the smallest header is "{}"');
    expectError(
      handBuiltFile('{}', [], 2n ** 64n - 1n),
      `header length 18446744073709551615 exceeds the ${MAX_HEADER_SIZE}-byte limit (file is 10 bytes)`,
    );
    expectError(
      handBuiltFile('{}', [], 2n ** 53n),
      `header length 9007199254740992 exceeds the ${MAX_HEADER_SIZE}-byte limit (file is 10 bytes)`,
    );
    expectError(
      handBuiltFile('{}', [], 3n),
      'header length 3 runs past the end of the file: only 2 bytes follow the 8-byte length prefix',
    );
    expectError(
      handBuiltFile('{}', [], BigInt(MAX_HEADER_SIZE)),
      'header length 100000000 runs past the end of the file: only 2 bytes follow the 8-byte length prefix',
    );
  });

  it('rejects headers that are not UTF-8, not JSON, or not an object', () => {
    const bad = handBuiltFile('{"\u0000"}');
    bad[10] = 0xff;
    expectError(bad, 'header (5 bytes) is not valid UTF-8');
    expect(() => readSafetensors(handBuiltFile('{"a":'))).toThrow(/safetensors: header is not valid JSON \(.*\); it starts with "\{\\"a\\":"/);
    expectError(handBuiltFile('[1,2]'), 'header must be a JSON object of tensors, got an array');
    expectError(handBuiltFile('null'), 'header must be a JSON object of tensors, got null');
    expectError(handBuiltFile('"{}"'), 'header must be a JSON object of tensors, got a string');
  });

  it('rejects bad metadata', () => {
    expectError(handBuiltFile('{"__metadata__":{"n":1}}'), '__metadata__["n"] is 1; metadata values must be strings');
    expectError(handBuiltFile('{"__metadata__":[]}'), '__metadata__ must be an object of strings, got an array');
    expect(readSafetensors(handBuiltFile('{"__metadata__":null}')).metadata).toEqual({});
  });

  it('keeps a "__proto__" metadata key as data', () => {
    const m = readSafetensors(handBuiltFile('{"__metadata__":{"__proto__":"x"}}')).metadata;
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
    expect(Object.keys(m)).toEqual(['__proto__']);
  });

  it('rejects bad entries, naming the tensor, the value and what was expected', () => {
    expectError(handBuiltFile('{"w":5}'), 'tensor "w": entry must be an object with dtype, shape and data_offsets, got a number');
    expectError(
      handBuiltFile(`{"w":${entry('F31', [1], [0, 4])}}`, new Uint8Array(4)),
      'tensor "w": dtype "F31" is not one of BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64',
    );
    expectError(
      handBuiltFile(`{"w":${entry('F32', [1, -2], [0, 4])}}`, new Uint8Array(4)),
      'tensor "w": shape [1,-2] has dimension 1 = -2; expected a non-negative integer',
    );
    expectError(
      handBuiltFile(`{"w":${entry('F32', [1.5], [0, 4])}}`, new Uint8Array(4)),
      'tensor "w": shape [1.5] has dimension 0 = 1.5; expected a non-negative integer',
    );
    expectError(
      handBuiltFile(`{"w":${entry('F32', '4', [0, 4])}}`, new Uint8Array(4)),
      'tensor "w": shape is "4"; expected an array of non-negative integers',
    );
    expectError(
      handBuiltFile(`{"w":${entry('F32', [1], [0])}}`, new Uint8Array(4)),
      'tensor "w": data_offsets is [0]; expected [begin, end] with non-negative integers',
    );
    expectError(
      handBuiltFile(`{"w":${entry('F32', [1], [0, -4])}}`, new Uint8Array(4)),
      'tensor "w": data_offsets is [0,-4]; expected [begin, end] with non-negative integers',
    );
    expectError(
      handBuiltFile(`{"w":${entry('F32', [0], [4, 0])}}`, new Uint8Array(4)),
      'tensor "w": data_offsets [4, 0] has begin > end',
    );
    expectError(
      handBuiltFile(`{"w":${entry('F32', [3], [0, 12])}}`, new Uint8Array(8)),
      'tensor "w": data_offsets [0, 12] run past the end of the 8-byte data buffer',
    );
    expectError(
      handBuiltFile(
        `{"model.layers.0.q_proj.weight":${entry('F32', [5, 6], [0, 100])}}`,
        new Uint8Array(100),
      ),
      'tensor "model.layers.0.q_proj.weight": data_offsets [0, 100] hold 100 bytes but dtype F32 × shape [5,6] needs 120',
    );
    expectError(
      handBuiltFile(`{"w":${entry('U8', [2 ** 30, 2 ** 30, 2 ** 30], [0, 0])}}`),
      'tensor "w": shape [1073741824,1073741824,1073741824] has more than 2^53 elements',
    );
  });

  it('requires the tensors to tile the data buffer exactly', () => {
    const two = (a: number[], b: number[], size: number) =>
      handBuiltFile(`{"a":${entry('U8', [a[1]! - a[0]!], a)},"b":${entry('U8', [b[1]! - b[0]!], b)}}`, new Uint8Array(size));
    expect(readSafetensors(two([4, 8], [0, 4], 8)).tensors.size).toBe(2);
    expectError(two([0, 4], [2, 6], 6), 'tensor "b": data_offsets [2, 6] overlap tensor "a" at data_offsets [0, 4]');
    expectError(two([0, 4], [0, 4], 4), 'tensor "b": data_offsets [0, 4] overlap tensor "a" at data_offsets [0, 4]');
    expectError(
      two([0, 4], [6, 8], 8),
      'tensor "b" starts at byte 6 of the data buffer but tensor "a" ends at 4: bytes 4..6 belong to no tensor (a hole)',
    );
    expectError(
      two([2, 4], [4, 8], 8),
      'tensor "a" starts at byte 2 of the data buffer: bytes 0..2 belong to no tensor (a hole); the first tensor must start at 0',
    );
    expectError(
      two([0, 4], [4, 8], 11),
      'tensors cover bytes 0..8 of the 11-byte data buffer: the last 3 bytes belong to no tensor (trailing data)',
    );
    expectError(handBuiltFile('{}', [1]), 'tensors cover bytes 0..0 of the 1-byte data buffer: the last 1 bytes belong to no tensor (trailing data)');
  });

  it('accepts zero-size tensors anywhere in the chain', () => {
    const file = handBuiltFile(
      `{"z1":${entry('F32', [0], [4, 4])},"a":${entry('U8', [4], [0, 4])},"z0":${entry('I64', [2, 0], [0, 0])},"b":${entry('U8', [1], [4, 5])}}`,
      [1, 2, 3, 4, 5],
    );
    const { tensors } = readSafetensors(file);
    expect([...tensors.keys()]).toEqual(['z0', 'a', 'z1', 'b']);
    expect(tensors.get('z1')!.data.length).toBe(0);
  });

  it('accepts a header padded with spaces and unknown entry fields (as the Rust crate does)', () => {
    const file = handBuiltFile(`{"w":{"dtype":"U8","shape":[],"data_offsets":[0,1],"extra":1}}    `, [9]);
    expect(readSafetensors(file).tensors.get('w')!.data).toEqual(new Uint8Array([9]));
  });

  it("a header not starting with '{': whitespace before it is accepted, a BOM or other text is not (as the Rust crate)", () => {
    // The crate's InvalidHeaderStart check is commented out in every release ("Add when we move to
    // 0.4.0"); serde_json skips JSON whitespace before the object, and nothing else.
    for (const ws of [' ', '\n', '\t', '\r\n  ']) {
      const file = handBuiltFile(`${ws}{"w":${entry('U8', [1], [0, 1])}}`, [4]);
      expect(readSafetensors(file).tensors.get('w')!.data, JSON.stringify(ws)).toEqual(new Uint8Array([4]));
    }
    expect(() => readSafetensors(handBuiltFile(`\uFEFF{"w":${entry('U8', [1], [0, 1])}}`, [4]))).toThrow(/header is not valid JSON/);
    expect(() => readSafetensors(handBuiltFile(`\u00A0{"w":${entry('U8', [1], [0, 1])}}`, [4]))).toThrow(/header is not valid JSON/);
    expect(() => readSafetensors(handBuiltFile(`[{"w":${entry('U8', [1], [0, 1])}}]`, [4]))).toThrow(/header must be a JSON object/);
  });

  it('parseHeader on a prefix of a file, given the full size', () => {
    const file = handBuiltFile(`{"w":${entry('U8', [3], [0, 3])}}`, [1, 2, 3]);
    const h = parseHeader(file.subarray(0, file.length - 3), file.length);
    expect(h.tensors.get('w')!.dataOffsets).toEqual([0, 3]);
    expect(() => parseHeader(file.subarray(0, 12), file.length)).toThrow(SafetensorsError);
  });
});
