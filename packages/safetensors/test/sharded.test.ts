import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Dtype,
  SafetensorsError,
  ShardedSafetensorsReader,
  blobSource,
  parseShardIndex,
  parseSize,
  planShards,
  serializeSafetensors,
  serializeShardIndex,
} from '../src/index.js';
import { openSafetensorsCheckpoint, writeShardedSafetensors } from '../src/node.js';

const u8 = (n: number) => ({ dtype: 'U8' as Dtype, shape: [n], data: new Uint8Array(n).fill(n) });

describe('planShards follows huggingface_hub', () => {
  it('greedy in the given order: [6,6,2,6,2,2] with max 10 → [6], [6,2], [6,2,2]', () => {
    const plan = planShards([['a', u8(6)], ['b', u8(6)], ['c', u8(2)], ['d', u8(6)], ['e', u8(2)], ['f', u8(2)]], { maxShardSize: 10 });
    expect(plan.shards.map((s) => s.tensors.map(([n]) => n))).toEqual([['a'], ['b', 'c'], ['d', 'e', 'f']]);
    expect(plan.shards.map((s) => s.fileName)).toEqual([
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
    ]);
    expect(plan.index!.metadata).toEqual({ total_size: 24 });
  });

  it('an oversized tensor gets its own shard, placed before the one being filled', () => {
    const plan = planShards([['a', u8(3)], ['big', u8(20)], ['b', u8(3)]], { maxShardSize: 10 });
    expect(plan.shards.map((s) => s.tensors.map(([n]) => n))).toEqual([['big'], ['a', 'b']]);
  });

  it('one shard → model.safetensors and no index', () => {
    const plan = planShards({ a: u8(3) }, { maxShardSize: '5GB' });
    expect(plan.shards.map((s) => s.fileName)).toEqual(['model.safetensors']);
    expect(plan.index).toBeUndefined();
  });

  it('parses HF size strings (decimal units)', () => {
    expect(parseSize('5GB')).toBe(5e9);
    expect(parseSize('500MB')).toBe(5e8);
    expect(parseSize('1.5kb')).toBe(1500);
    expect(() => parseSize('5GiB')).toThrow(SafetensorsError);
    expect(() => parseSize(0)).toThrow(SafetensorsError);
  });
});

describe('index files', () => {
  it('serializes like json.dumps(indent=2, sort_keys=True) + "\\n"', () => {
    const text = serializeShardIndex({
      metadata: { total_size: 12 },
      weightMap: new Map([
        ['b', 'model-00002-of-00002.safetensors'],
        ['10', 'model-00001-of-00002.safetensors'],
        ['é', 'model-00001-of-00002.safetensors'],
        ['2', 'model-00001-of-00002.safetensors'],
      ]),
    });
    expect(text).toBe(
      [
        '{',
        '  "metadata": {',
        '    "total_size": 12',
        '  },',
        '  "weight_map": {',
        '    "10": "model-00001-of-00002.safetensors",',
        '    "2": "model-00001-of-00002.safetensors",',
        '    "b": "model-00002-of-00002.safetensors",',
        '    "\\u00e9": "model-00001-of-00002.safetensors"',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it.skipIf(!hasPython())('matches Python json.dumps byte for byte', () => {
    const weightMap = new Map([['b', 'f1'], ['10', 'f2'], ['\u{1F600}', 'f1'], ['\uFF21', 'f2'], ['a\u007f"\\\n', 'f1'], ['2', 'f2']]);
    const ours = serializeShardIndex({ metadata: { total_size: 7, note: 'x' }, weightMap });
    const py = execFileSync(
      'python3',
      ['-c', 'import json,sys; d=json.loads(sys.stdin.read()); sys.stdout.write(json.dumps(d, indent=2, sort_keys=True) + "\\n")'],
      { input: ours, encoding: 'utf8' },
    );
    expect(ours).toBe(py);
  });

  it('rejects malformed indexes and file names that leave the folder', () => {
    expect(() => parseShardIndex('[]')).toThrow('safetensors: shard index must be a JSON object with "weight_map", got []');
    expect(() => parseShardIndex('{"weight_map":5}')).toThrow(/"weight_map" is 5; expected an object/);
    expect(() => parseShardIndex('{"weight_map":{"w":"../x.safetensors"}}')).toThrow(
      'safetensors: shard index weight_map["w"] is "../x.safetensors"; expected a file name without folders',
    );
    expect(() => parseShardIndex('{"weight_map":{"w":"C:x"}}')).toThrow(SafetensorsError);
    expect(() => parseShardIndex('{"weight_map":{"w":7}}')).toThrow(SafetensorsError);
    expect(() => parseShardIndex('{"weight_map"')).toThrow(/not valid JSON/);
    expect(parseShardIndex('{"weight_map":{"w":"a.safetensors"}}').metadata).toEqual({});
  });
});

function hasPython(): boolean {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('sharded write and read back', () => {
  const tensors = new Map(
    Array.from({ length: 7 }, (_, i) => [
      `layers.${i}.weight`,
      { dtype: 'F32' as Dtype, shape: [4, i + 1], data: new Float32Array(4 * (i + 1)).fill(i) },
    ]),
  );

  it('writes shards + index as HF does and routes reads to the right shard', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-shard-'));
    const plan = await writeShardedSafetensors(dir, tensors, { maxShardSize: 100, metadata: { format: 'pt' } });
    const files = readdirSync(dir).sort();
    expect(files).toEqual([...plan.shards.map((s) => s.fileName), 'model.safetensors.index.json'].sort());
    expect(plan.shards.length).toBeGreaterThan(2);
    const index = parseShardIndex(readFileSync(join(dir, 'model.safetensors.index.json')));
    expect(index.metadata).toEqual({ total_size: 4 * 4 * 28 });
    // Only a tensor larger than the limit (here 4×7 F32 = 112 bytes) may make a shard exceed it.
    for (const s of plan.shards) expect(s.size <= 100 || s.tensors.length === 1).toBe(true);

    await using reader = await openSafetensorsCheckpoint(dir);
    expect(reader.names()).toEqual([...tensors.keys()]);
    for (const [name, t] of tensors) {
      expect(reader.shardOf(name)).toBe(index.weightMap.get(name));
      expect(await reader.typedArray(name)).toEqual(t.data);
      expect((await reader.info(name)).shape).toEqual(t.shape);
    }
    expect((await reader.shard(plan.shards[0]!.fileName)).metadata).toEqual({ format: 'pt' });
    await expect(reader.tensor('missing')).rejects.toThrow('safetensors: no tensor "missing" in the shard index (7 tensors)');
  });

  it('one shard: model.safetensors only, and the checkpoint opener reads it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-single-'));
    await writeShardedSafetensors(dir, tensors);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    const reader = await openSafetensorsCheckpoint(dir);
    expect(await reader.typedArray('layers.3.weight')).toEqual(tensors.get('layers.3.weight')!.data);
    await reader.close();
  });

  it('reads shards from Blobs (browser) and reports an index that points at the wrong shard', async () => {
    const plan = planShards(tensors, { maxShardSize: 100 });
    const blobs = new Map(plan.shards.map((s) => [s.fileName, new Blob([serializeSafetensors(s.tensors)])]));
    const opened: string[] = [];
    const open = async (f: string) => {
      opened.push(f);
      return blobSource(blobs.get(f)!);
    };
    const reader = new ShardedSafetensorsReader(plan.index!, open);
    const last = [...tensors.keys()].at(-1)!;
    expect(await reader.typedArray(last)).toEqual(tensors.get(last)!.data);
    expect(opened).toEqual([plan.index!.weightMap.get(last)]);
    await reader.tensor(last);
    expect(opened.length).toBe(1); // shard readers are cached

    const wrong = new Map(plan.index!.weightMap);
    wrong.set(last, plan.shards[0]!.fileName);
    const bad = new ShardedSafetensorsReader({ metadata: {}, weightMap: wrong }, open);
    await expect(bad.tensor(last)).rejects.toThrow(
      `safetensors: the index maps tensor "${last}" to "${plan.shards[0]!.fileName}", but that file has no such tensor`,
    );
  });

  it('names the shard when a shard file is corrupt', async () => {
    const reader = new ShardedSafetensorsReader(
      { metadata: {}, weightMap: new Map([['w', 'model-00001-of-00002.safetensors']]) },
      async () => blobSource(new Blob([new Uint8Array(4)])),
    );
    await expect(reader.tensor('w')).rejects.toThrow(
      'safetensors: shard "model-00001-of-00002.safetensors": file is 4 bytes; a safetensors file starts with an 8-byte header length',
    );
  });
});
