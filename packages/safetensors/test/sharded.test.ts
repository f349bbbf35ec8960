import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
  shardIndexFileName,
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

  it("parseSize reads sizes as huggingface_hub's parse_size_to_int (save_pretrained's max_shard_size) does: decimal units in any case, fractions, TB; GiB binary and 0 on top", () => {
    expect(parseSize('5GB')).toBe(5e9);
    expect(parseSize('500MB')).toBe(5e8);
    // The unit is matched case-insensitively: "5gb" and "5Gb" are bytes, not bits.
    expect(parseSize('5gB')).toBe(5e9);
    expect(parseSize('5Gb')).toBe(5e9);
    expect(parseSize('5gb')).toBe(5e9);
    expect(parseSize('3kb')).toBe(3000);
    // float() reads the number: fractions, a sign, underscores, spaces around; int() truncates.
    expect(parseSize('1.5GB')).toBe(1_500_000_000);
    expect(parseSize(' 5 GB ')).toBe(5e9);
    expect(parseSize('+5MB')).toBe(5e6);
    expect(parseSize('5_000MB')).toBe(5e9);
    expect(parseSize('.5KB')).toBe(500);
    expect(parseSize('1e3KB')).toBe(1e6);
    expect(parseSize('1.0007KB')).toBe(1000); // int(1.0007 * 1000) = int(1000.7)
    expect(parseSize('1TB')).toBe(1e12);
    expect(parseSize('10GiB')).toBe(10 * 2 ** 30);
    expect(parseSize('1mib')).toBe(2 ** 20);
    expect(parseSize('2KiB')).toBe(2048);
    // 0 is accepted (every tensor then gets its own shard), as a string and as a number.
    expect(parseSize('0KB')).toBe(0);
    expect(parseSize(0)).toBe(0);
    expect(planShards({ a: u8(1), b: u8(1) }, { maxShardSize: '0KB' }).shards.length).toBe(2);
    for (const bad of ['GB', '5', '5 G B', '5B', '5PB', '1..5GB', '5__0MB', '_5MB', 'infGB', 'nanMB', '-5MB']) expect(() => parseSize(bad), bad).toThrow(SafetensorsError);
    expect(() => parseSize('5PB')).toThrow('safetensors: shard size "5PB" is not a number followed by TB, GB, MB, KB (decimal, any case) or GiB, MiB, KiB (binary), e.g. "5GB" or "1.5GB"');
    expect(() => parseSize('-5MB')).toThrow('is negative');
    expect(() => parseSize(-1)).toThrow(SafetensorsError);
    expect(() => parseSize(1.5)).toThrow(SafetensorsError);
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

  it('openSafetensorsCheckpoint prefers model.safetensors over an index, as transformers does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-prefer-'));
    // An index with its shards and, beside them, a single file with other values.
    const plan = planShards(tensors, { maxShardSize: 100 });
    for (const s of plan.shards) writeFileSync(join(dir, s.fileName), serializeSafetensors(s.tensors));
    writeFileSync(join(dir, 'model.safetensors.index.json'), serializeShardIndex(plan.index!));
    const single = { w: { dtype: 'F32' as Dtype, shape: [2], data: new Float32Array([7, 8]) } };
    writeFileSync(join(dir, 'model.safetensors'), serializeSafetensors(single));
    await using reader = await openSafetensorsCheckpoint(dir);
    expect(reader.names()).toEqual(['w']);
    expect([...(await reader.typedArray('w'))]).toEqual([7, 8]);
    // Without the single file the index is used.
    rmSync(join(dir, 'model.safetensors'));
    await using sharded = await openSafetensorsCheckpoint(dir);
    expect(sharded.names()).toEqual([...tensors.keys()]);
  });

  it('re-saving a smaller model removes the stale index and shards, so reading back never returns old weights', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-stale-'));
    writeFileSync(join(dir, 'notes.txt'), 'kept');
    writeFileSync(join(dir, 'adapter_model.safetensors'), serializeSafetensors({}));
    // Sharded (4+ shards), then fewer shards: the extra old shards go.
    await writeShardedSafetensors(dir, tensors, { maxShardSize: 100 });
    const few = new Map([...tensors].slice(0, 4).map(([n, t]) => [n, { ...t, data: t.data.map((v) => v + 100) }] as const));
    const plan = await writeShardedSafetensors(dir, few, { maxShardSize: 100 });
    expect(readdirSync(dir).sort()).toEqual([...plan.shards.map((s) => s.fileName), 'adapter_model.safetensors', 'model.safetensors.index.json', 'notes.txt'].sort());
    // Then a single file: the index and every shard go.
    const one = new Map([['layers.0.weight', { dtype: 'F32' as Dtype, shape: [2], data: new Float32Array([5, 6]) }]]);
    await writeShardedSafetensors(dir, one);
    expect(readdirSync(dir).sort()).toEqual(['adapter_model.safetensors', 'model.safetensors', 'notes.txt']);
    await using reader = await openSafetensorsCheckpoint(dir);
    expect(reader.names()).toEqual(['layers.0.weight']);
    expect([...(await reader.typedArray('layers.0.weight'))]).toEqual([5, 6]);
    // And sharded again: the single file goes (a reader would prefer it to the new index).
    await writeShardedSafetensors(dir, tensors, { maxShardSize: 100 });
    expect(readdirSync(dir)).not.toContain('model.safetensors');
    await using again = await openSafetensorsCheckpoint(dir);
    expect(again.names()).toEqual([...tensors.keys()]);
  });

  it('a custom filenamePattern removes only its own stale shards and index, and names its index after itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-pattern-'));
    await writeShardedSafetensors(dir, tensors, { maxShardSize: 100 });
    const model = readdirSync(dir).sort();
    expect(model).toContain('model.safetensors.index.json');
    // A sharded save with another pattern writes its own index beside the model's.
    const sharded = await writeShardedSafetensors(dir, tensors, { maxShardSize: 100, filenamePattern: 'adapter_model{suffix}.safetensors' });
    const adapter = [...sharded.shards.map((s) => s.fileName), 'adapter_model.safetensors.index.json'];
    expect(readdirSync(dir).sort()).toEqual([...model, ...adapter].sort());
    await using adapterReader = await openSafetensorsCheckpoint(dir, { singleFile: 'adapter_model.safetensors' });
    expect(adapterReader.names()).toEqual([...tensors.keys()]);
    // A single-file save with that pattern removes its own index and shards, never the model's.
    await writeShardedSafetensors(dir, tensors, { maxShardSize: 1000, filenamePattern: 'adapter_model{suffix}.safetensors' });
    expect(readdirSync(dir).sort()).toEqual([...model, 'adapter_model.safetensors'].sort());
    await using reader = await openSafetensorsCheckpoint(dir);
    expect(reader.names()).toEqual([...tensors.keys()]);
    expect([...(await reader.typedArray([...tensors.keys()].at(-1)!))]).toEqual([...tensors.get([...tensors.keys()].at(-1)!)!.data]);
    expect(shardIndexFileName()).toBe('model.safetensors.index.json');
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
