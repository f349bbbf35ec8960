import { Tokenizer as RustTokenizer } from '@anush008/tokenizers';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trainBpe } from '../src/index.js';
import { buildCorpus } from './corpus.js';

const training = buildCorpus(1500, [], 7);
const heldOut = buildCorpus(1500, ['<|endoftext|>', '<pad>'], 8);

const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

function save(json: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-train-bpe-'));
  tempDirs.push(dir);
  const path = join(dir, 'tokenizer.json');
  writeFileSync(path, JSON.stringify(json));
  return path;
}

describe.each([true, false])('trainBpe (byteLevel: %s)', (byteLevel) => {
  const specialTokens = ['<|endoftext|>', '<pad>'];
  const tok = trainBpe(training, { vocabSize: 4000, minFrequency: 2, specialTokens, byteLevel });

  it('reaches the requested vocabulary size and keeps special tokens first', () => {
    expect(tok.vocabSize).toBeLessThanOrEqual(4000);
    expect(tok.vocabSize).toBeGreaterThan(1500);
    expect(tok.tokenToId('<|endoftext|>')).toBe(0);
    expect(tok.tokenToId('<pad>')).toBe(1);
  });

  it('is deterministic', () => {
    const again = trainBpe(training, { vocabSize: 4000, minFrequency: 2, specialTokens, byteLevel });
    expect(JSON.stringify(again.toJSON())).toBe(JSON.stringify(tok.toJSON()));
  });

  it('saves a tokenizer.json that the Rust library loads and encodes identically', async () => {
    const rust = RustTokenizer.fromFile(save(tok.toJSON()));
    let compared = 0;
    for (const text of heldOut) {
      const r = await rust.encode(text, null, { addSpecialTokens: true });
      const o = tok.encode(text);
      expect(o.ids, JSON.stringify(text)).toEqual(r.getIds());
      expect(o.offsets, JSON.stringify(text)).toEqual(r.getOffsets());
      expect(tok.decode(o.ids)).toBe(await rust.decode(r.getIds(), false));
      compared++;
    }
    expect(compared).toBe(heldOut.length);
  });

  if (byteLevel) {
    it('round-trips text through encode and decode', () => {
      for (const text of heldOut.slice(0, 300)) {
        const wf = text.replace(/[\ud800-\udfff]/g, (c, i: number, s: string) => (/[\ud800-\udbff][\udc00-\udfff]/.test(s.slice(i - 1, i + 1)) || /[\ud800-\udbff][\udc00-\udfff]/.test(s.slice(i, i + 2)) ? c : '\ufffd'));
        expect(tok.decode(tok.encode(wf, { addSpecialTokens: false }).ids)).toBe(wf);
      }
    });
  }

  it('rejects a vocabulary smaller than the alphabet', () => {
    expect(() => trainBpe(['abc'], { vocabSize: 3, byteLevel })).toThrow(/vocabSize 3 is below/);
  });
});
