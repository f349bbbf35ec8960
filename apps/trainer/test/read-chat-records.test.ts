import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataFiles, readChatRecords } from '../src/read-chat-records.js';

describe('readChatRecords', () => {
  it('reports bad lines as file:line; stops on the first by default, skips and counts them on request', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tessera-data-'));
    const file = path.join(dir, 'train.jsonl');
    const good = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] });
    await writeFile(file, `${good}\n{"messages": [\n\n[1, 2]\n${good}\n`);
    await expect(readChatRecords([file], 'stop')).rejects.toThrow(`${file}:2: `);
    await expect(readChatRecords([file], 'stop')).rejects.toThrow('pass --on-bad-line skip');
    const { records, bad } = await readChatRecords([file], 'skip');
    expect(records.map((r) => r.where)).toEqual([`${file}:1`, `${file}:5`]);
    expect(bad.map((b) => b.where)).toEqual([`${file}:2`, `${file}:4`]);
    expect(bad[1]!.reason).toContain('expected a JSON object');
    expect(await dataFiles(dir)).toEqual([file]);
    await expect(dataFiles(path.join(dir, 'missing.jsonl'))).rejects.toThrow('no such file or folder');
  });
});
