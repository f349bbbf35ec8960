import { mkdtempSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ByteSource,
  SafetensorsError,
  SafetensorsReader,
  arrayBufferSource,
  blobSource,
  parseHeader,
  serializeSafetensors,
} from '../src/index.js';
import { openFileSource, openSafetensorsFile, readSafetensorsFile, writeSafetensorsFile } from '../src/node.js';
import { countingSource, handBuiltFile } from './helpers.js';

const tensors = {
  'big.weight': { dtype: 'F32' as const, shape: [64, 64], data: new Float32Array(64 * 64).map((_, i) => i) },
  'small.bias': { dtype: 'F32' as const, shape: [3], data: new Float32Array([1, 2, 3]) },
  'ids': { dtype: 'I64' as const, shape: [2], data: new BigInt64Array([5n, -5n]) },
  'empty': { dtype: 'BF16' as const, shape: [0], data: new Uint16Array(0) },
};
const bytes = serializeSafetensors(tensors, { format: 'pt' });
const header = parseHeader(bytes);

describe('SafetensorsReader reads only what it needs', () => {
  it('opening reads the 8-byte length and the header, nothing else', async () => {
    const source = countingSource(arrayBufferSource(bytes));
    const reader = await SafetensorsReader.open(source);
    expect(source.reads).toEqual([
      [0, 8],
      [8, header.headerSize],
    ]);
    expect(reader.metadata).toEqual({ format: 'pt' });
    expect(reader.info('small.bias')).toEqual({ dtype: 'F32', shape: [3], dataOffsets: header.tensors.get('small.bias')!.dataOffsets });
  });

  it('a tensor read is exactly its byte range; empty tensors read nothing', async () => {
    const source = countingSource(arrayBufferSource(bytes));
    const reader = await SafetensorsReader.open(source);
    source.reads.length = 0;
    expect([...(await reader.typedArray('small.bias'))]).toEqual([1, 2, 3]);
    const [b, e] = header.tensors.get('small.bias')!.dataOffsets;
    expect(source.reads).toEqual([[header.dataStart + b, e - b]]);
    expect((await reader.tensor('empty')).data.length).toBe(0);
    expect(source.reads.length).toBe(1);
  });

  it('from a Node file handle, counting the bytes read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-reader-'));
    const path = join(dir, 'model.safetensors');
    await writeSafetensorsFile(path, tensors, { format: 'pt' });
    const source = countingSource(await openFileSource(path));
    const reader = await SafetensorsReader.open(source);
    expect([...(await reader.typedArray('ids'))]).toEqual([5n, -5n]);
    expect(source.bytesRead()).toBe(8 + header.headerSize + 16);
    expect(source.bytesRead()).toBeLessThan(bytes.length / 10);
    await reader.close();

    await using lazy = await openSafetensorsFile(path);
    expect((await lazy.typedArray('big.weight'))[4095]).toBe(4095);
    const whole = await readSafetensorsFile(path);
    expect(whole.tensors.get('small.bias')!.data).toEqual(new Uint8Array(tensors['small.bias'].data.buffer));
  });

  it('from a Blob', async () => {
    const reader = await SafetensorsReader.open(blobSource(new Blob([bytes])));
    expect([...(await reader.typedArray('small.bias'))]).toEqual([1, 2, 3]);
    expect((await reader.readAll()).tensors.size).toBe(4);
  });

  it('an unknown name is an error listing some names', async () => {
    const reader = await SafetensorsReader.open(arrayBufferSource(bytes));
    await expect(reader.tensor('nope')).rejects.toThrow(
      'safetensors: no tensor "nope" in this file (it has 4: "ids", "big.weight", "small.bias", "empty")',
    );
  });

  it('never reads past the real size, whatever the header length claims', async () => {
    for (const claimed of [2n ** 64n - 1n, 2n ** 53n, 99_999_999n, 1000n]) {
      const file = handBuiltFile('{}', [], claimed);
      const source = countingSource(arrayBufferSource(file));
      await expect(SafetensorsReader.open(source)).rejects.toBeInstanceOf(SafetensorsError);
      expect(source.reads).toEqual([[0, 8]]);
    }
  });

  it('a source that returns fewer bytes than asked is an error, and the source is closed on a bad header', async () => {
    let closed = false;
    const short: ByteSource = {
      size: bytes.length,
      read: async (offset, length) => bytes.slice(offset, offset + Math.max(0, length - 1)),
      close: () => {
        closed = true;
      },
    };
    await expect(SafetensorsReader.open(short)).rejects.toThrow(/source returned 7 bytes for bytes 0\.\.8/);
    expect(closed).toBe(true);
  });

  it('a file truncated after opening is a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-trunc-'));
    const path = join(dir, 'model.safetensors');
    await writeSafetensorsFile(path, tensors);
    const source = await openFileSource(path);
    const reader = await SafetensorsReader.open(source);
    await truncate(path, reader.header.dataStart + 4);
    await expect(reader.tensor('big.weight')).rejects.toThrow(/file ended at byte \d+ while reading bytes/);
    await reader.close();
  });
});
