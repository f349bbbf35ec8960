import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsError, readSafetensors, serializeSafetensors } from '../src/index.js';
import { type TensorToWrite, writeFileAtomic, writeSafetensorsFile } from '../src/node.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'st-atomic-'));

describe('atomic writes', () => {
  it('writes the same bytes as serializeSafetensors, leaving no temporary file', async () => {
    const dir = fresh();
    const tensors = {
      a: { dtype: 'F32' as const, shape: [2], data: new Float32Array([1, 2]) },
      b: { dtype: 'I8' as const, shape: [3], data: () => new Int8Array([1, -1, 0]) },
      c: { dtype: 'F16' as const, shape: [1], data: async () => new Uint16Array([0x3c00]) },
    };
    await writeSafetensorsFile(join(dir, 'x.safetensors'), tensors, { k: 'v' });
    const expected = serializeSafetensors(
      { a: tensors.a, b: { ...tensors.b, data: new Int8Array([1, -1, 0]) }, c: { ...tensors.c, data: new Uint16Array([0x3c00]) } },
      { k: 'v' },
    );
    expect(new Uint8Array(readFileSync(join(dir, 'x.safetensors')))).toEqual(expected);
    expect(readdirSync(dir)).toEqual(['x.safetensors']);
  });

  it('a data source that throws midway leaves the old file intact and no partial file', async () => {
    const dir = fresh();
    const path = join(dir, 'model.safetensors');
    const old = serializeSafetensors({ old: { dtype: 'U8', shape: [1], data: new Uint8Array([7]) } });
    writeFileSync(path, old);
    let firstWritten = false;
    const tensors: Record<string, TensorToWrite> = {
      a: { dtype: 'F64', shape: [1024], data: () => ((firstWritten = true), new Float64Array(1024)) },
      b: {
        dtype: 'F32',
        shape: [4],
        data: () => {
          throw new Error('disk source failed');
        },
      },
    };
    await expect(writeSafetensorsFile(path, tensors)).rejects.toThrow('disk source failed');
    expect(firstWritten).toBe(true);
    expect(new Uint8Array(readFileSync(path))).toEqual(old);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    expect(readSafetensors(readFileSync(path)).tensors.has('old')).toBe(true);
  });

  it('a lazily produced tensor of the wrong size fails the write with a SafetensorsError and leaves nothing', async () => {
    const dir = fresh();
    const path = join(dir, 'new.safetensors');
    const write = writeSafetensorsFile(path, { a: { dtype: 'F32', shape: [4], data: () => new Float32Array(3) } });
    await expect(write).rejects.toThrow('safetensors: tensor "a": data holds 12 bytes but dtype F32 × shape [4] needs 16');
    await expect(write).rejects.toBeInstanceOf(SafetensorsError);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writeFileAtomic cleans up after a failing writer', async () => {
    const dir = fresh();
    const path = join(dir, 'f.bin');
    await expect(
      writeFileAtomic(path, async (h) => {
        await h.write(new Uint8Array(100));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(readdirSync(dir)).toEqual([]);
    await writeFileAtomic(path, async (h) => {
      await h.write(new Uint8Array([1, 2, 3]));
    });
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
  });

  it('fails cleanly when the folder does not exist', async () => {
    await expect(writeFileAtomic(join(fresh(), 'no', 'f.bin'), async () => {})).rejects.toThrow(/ENOENT/);
  });
});
