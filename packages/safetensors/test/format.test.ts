import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TensorInput, dtypeByteSize, readSafetensors, serializeSafetensors, toTypedArray } from '../src/index.js';
import { f32Bytes, handBuiltFile } from './helpers.js';

const decoder = new TextDecoder();
const FIXTURE = join(import.meta.dirname, 'fixtures', 'reference.safetensors');

function pad8(header: string): string {
  return header + ' '.repeat((8 - (header.length % 8)) % 8);
}

describe('byte-exact layout of the reference writer', () => {
  // Expected bytes follow the Rust crate's own serialization tests, rebuilt here from the spec.
  it('one F32 tensor whose header is already a multiple of 8', () => {
    const data = f32Bytes([0, 1, 2, 3, 4, 5]);
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(64);
    const out = serializeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data } });
    expect(out).toEqual(handBuiltFile(header, data));
  });

  it('pads the header with spaces so data starts 8-byte aligned', () => {
    const data = f32Bytes([0, 1, 2, 3, 4, 5]);
    const header = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(65);
    const out = serializeSafetensors({ attn0: { dtype: 'F32', shape: [1, 1, 2, 3], data } });
    expect(out).toEqual(handBuiltFile(`${header}       `, data));
    expect(out.length).toBe(8 + 72 + 24);
  });

  it('empty file, with and without metadata', () => {
    expect(serializeSafetensors({})).toEqual(handBuiltFile('{}      '));
    expect(serializeSafetensors({}, { framework: 'pt' })).toEqual(
      handBuiltFile(pad8('{"__metadata__":{"framework":"pt"}}')),
    );
    expect(readSafetensors(serializeSafetensors({})).tensors.size).toBe(0);
  });

  it('orders tensors by dtype alignment (Rust enum order, descending) then by name', () => {
    const t = (dtype: TensorInput['dtype'], n: number): TensorInput => ({
      dtype,
      shape: [n],
      data: new Uint8Array(n * dtypeByteSize(dtype)),
    });
    const out = serializeSafetensors({
      a: t('U8', 3),
      z: t('F32', 1),
      b: t('F32', 2),
      e: t('BOOL', 1),
      d: t('BF16', 1),
      c: t('I64', 1),
      f: t('F16', 1),
      g: t('U16', 1),
      h: t('U64', 1),
      i: t('F64', 1),
    });
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    const header = JSON.parse(decoder.decode(out.subarray(8, 8 + n))) as Record<string, { data_offsets: number[] }>;
    expect(Object.keys(header)).toEqual(['h', 'c', 'i', 'b', 'z', 'd', 'f', 'g', 'a', 'e']);
    // Each tensor starts at a multiple of its element size, so typed-array views need no copy.
    const file = readSafetensors(out);
    for (const [, t2] of file.tensors) expect(toTypedArray(t2).buffer).toBe(out.buffer);
  });

  it('orders names by code point (UTF-8 byte order), as Rust does', () => {
    const one = { dtype: 'U8' as const, shape: [], data: new Uint8Array(1) };
    // "\u{1F600}" (UTF-16 D83D DE00) sorts after "\uFF21" by code point but before it by UTF-16 unit.
    const out = serializeSafetensors({ '\u{1F600}': one, '\uFF21': one, b: one, a: one });
    const names = [...readSafetensors(out).tensors.keys()];
    expect(names).toEqual(['a', 'b', '\uFF21', '\u{1F600}']);
  });
});

describe('fixture written by an independent writer (scripts/make-fixture.py, stdlib only)', () => {
  const bytes = new Uint8Array(readFileSync(FIXTURE));

  it('reads every dtype with the expected values', () => {
    const file = readSafetensors(bytes);
    expect(file.metadata).toEqual({ format: 'pt', source: 'tessera fixture' });
    const get = (name: string) => toTypedArray(file.tensors.get(name)!);
    expect([...get('model.embed.weight')]).toEqual([...new Float32Array([0.5, -1.25, 2.0, 3.5, -0.125, 1e-3])]);
    expect(file.tensors.get('model.embed.weight')!.shape).toEqual([2, 3]);
    expect([...get('model.norm.weight')]).toEqual([1 / 3, -2.5]);
    expect([...get('ids')]).toEqual([1n, -2n, 2n ** 40n]);
    expect([...get('half')]).toEqual([0x3c00, 0xc000]);
    expect([...get('brain')]).toEqual([0x3f80, 0x4040]);
    expect([...get('mask')]).toEqual([1, 0, 0, 1]);
    expect([...get('counts')]).toEqual([7, -8, 9, 2 ** 31 - 1]);
    expect([...get('bytes')]).toEqual([0, 128, 255]);
    expect([...get('small')]).toEqual([-300]);
    expect([...get('tiny')]).toEqual([-128, 127]);
    expect(file.tensors.get('empty')!.shape).toEqual([0, 4]);
    expect(get('empty').length).toBe(0);
  });

  it('re-serializes byte for byte', () => {
    const file = readSafetensors(bytes);
    expect(serializeSafetensors(file.tensors, file.metadata)).toEqual(bytes);
  });
});

function hasNumpy(): boolean {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// An independent reader: Python's json + struct + numpy decode what we wrote.
const NUMPY_READER = `
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
meta = header.pop('__metadata__', None)
kinds = {'F64': '<f8', 'F32': '<f4', 'F16': '<f2', 'BF16': '<u2', 'I64': '<i8', 'I32': '<i4', 'I16': '<i2',
         'I8': 'i1', 'U8': 'u1', 'BOOL': '?', 'U16': '<u2', 'U32': '<u4', 'U64': '<u8'}
out = {}
for name, info in header.items():
    b, e = info['data_offsets']
    arr = np.frombuffer(raw[8 + n + b:8 + n + e], dtype=kinds[info['dtype']]).reshape(info['shape'])
    out[name] = [info['dtype'], list(arr.shape), [str(v) if info['dtype'] in ('I64', 'U64') else v for v in arr.ravel().tolist()]]
print(json.dumps({'meta': meta, 'tensors': out}))
`;

describe.skipIf(!hasNumpy())('numpy reads what we write', () => {
  it('every dtype decodes to the same values', () => {
    const tensors: Record<string, TensorInput> = {
      f64: { dtype: 'F64', shape: [2], data: new Float64Array([Math.PI, -0]) },
      f32: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1.5, -2, 3.25, 1e30]) },
      f16: { dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0xc000, 0x3555]) },
      bf16: { dtype: 'BF16', shape: [1], data: new Uint16Array([0x3f80]) },
      i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 62n), 5n]) },
      i32: { dtype: 'I32', shape: [1, 1], data: new Int32Array([-7]) },
      i16: { dtype: 'I16', shape: [1], data: new Int16Array([-300]) },
      i8: { dtype: 'I8', shape: [2], data: new Int8Array([-1, 1]) },
      u8: { dtype: 'U8', shape: [], data: new Uint8Array([200]) },
      bool: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
      u16: { dtype: 'U16', shape: [1], data: new Uint16Array([65535]) },
      u32: { dtype: 'U32', shape: [1], data: new Uint32Array([2 ** 32 - 1]) },
      u64: { dtype: 'U64', shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
      empty: { dtype: 'F32', shape: [3, 0], data: new Float32Array(0) },
    };
    const dir = mkdtempSync(join(tmpdir(), 'st-numpy-'));
    const path = join(dir, 'x.safetensors');
    writeFileSync(path, serializeSafetensors(tensors, { 'ключ': 'значение' }));
    const result = JSON.parse(execFileSync('python3', ['-c', NUMPY_READER, path], { encoding: 'utf8' }));
    expect(result.meta).toEqual({ 'ключ': 'значение' });
    expect(result.tensors.f64).toEqual(['F64', [2], [Math.PI, -0]]);
    expect(result.tensors.f32).toEqual(['F32', [2, 2], [1.5, -2, 3.25, Math.fround(1e30)]]);
    expect(result.tensors.f16[2][0]).toBe(1);
    expect(result.tensors.f16[2][1]).toBe(-2);
    expect(result.tensors.bf16[2]).toEqual([0x3f80]);
    expect(result.tensors.i64[2]).toEqual([String(-(2n ** 62n)), '5']);
    expect(result.tensors.i32).toEqual(['I32', [1, 1], [-7]]);
    expect(result.tensors.i16[2]).toEqual([-300]);
    expect(result.tensors.i8[2]).toEqual([-1, 1]);
    expect(result.tensors.u8).toEqual(['U8', [], [200]]);
    expect(result.tensors.bool[2]).toEqual([true, false]);
    expect(result.tensors.u16[2]).toEqual([65535]);
    expect(result.tensors.u32[2]).toEqual([2 ** 32 - 1]);
    expect(result.tensors.u64[2]).toEqual([String(2n ** 64n - 1n)]);
    expect(result.tensors.empty).toEqual(['F32', [3, 0], []]);
  });
});
