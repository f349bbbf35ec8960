import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { numRuns } from '../test/tokenizers.js';
import { CsvParser, readConll, readCsv, readDataset, readJsonArray, readJsonl, readLines, readTextRecords, type DataSource } from './index.js';

const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

/** A source delivering `text` in the given chunk sizes, as bytes (so multi-byte characters get split too). */
function chunked(text: string, sizes: number[]): DataSource {
  const bytes = new TextEncoder().encode(text);
  return (async function* () {
    let at = 0;
    let k = 0;
    while (at < bytes.length) {
      const n = Math.max(1, sizes[k++ % sizes.length]!);
      yield bytes.subarray(at, at + n);
      at += n;
    }
  })();
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-datasets-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('readJsonl', () => {
  it('streams records from a file, skipping blank lines and CRLF endings', async () => {
    const p = file('a.jsonl', '{"a":1}\r\n\n{"a":2}\n{"a":"é"}');
    expect(await collect(readJsonl(p))).toEqual([{ a: 1 }, { a: 2 }, { a: 'é' }]);
  });

  it('names the file and line number of a bad line', async () => {
    const p = file('bad.jsonl', '{"a":1}\n{"a":2}\n{"a":\n');
    await expect(collect(readJsonl(p))).rejects.toThrow(new RegExp(`bad\\.jsonl:3: invalid JSON .*one complete JSON value`));
  });

  it('names a missing file and the fix', async () => {
    await expect(collect(readJsonl(join(dir, 'nope.jsonl')))).rejects.toThrow(/nope\.jsonl: no such file; check the path/);
  });

  it('gives the same lines whatever the chunking (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'grapheme' }).filter((s) => !/[\n\r\ufeff]/.test(s)), { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }), async (lines, sizes) => {
        const text = lines.join('\n');
        const got = (await collect(readLines(chunked(text, sizes)))).map((l) => l.text);
        const want = text.split('\n');
        if (want[want.length - 1] === '') want.pop();
        expect(got).toEqual(want);
      }),
      { numRuns },
    );
  });
});

describe('readJsonArray', () => {
  it('reads a top-level array or a single array field', async () => {
    expect(await collect(readJsonArray({ text: '[{"x":1},{"x":2}]' }))).toEqual([{ x: 1 }, { x: 2 }]);
    expect(await collect(readJsonArray({ text: '{"data":[{"x":1}],"version":"1"}' }))).toEqual([{ x: 1 }]);
    await expect(collect(readJsonArray({ text: '{"x":1}\n{"x":2}', name: 'd.json' }))).rejects.toThrow(/d\.json: invalid JSON.*read it as JSON Lines/);
  });
});

describe('readCsv', () => {
  it('parses RFC 4180: quotes, doubled quotes, delimiters and newlines inside fields, CRLF', async () => {
    const text = 'instruction,output\r\n"Say ""hi""","Hi, there"\r\n"two\nlines",x\r\n';
    expect(await collect(readCsv({ text }))).toEqual([
      { instruction: 'Say "hi"', output: 'Hi, there' },
      { instruction: 'two\nlines', output: 'x' },
    ]);
  });

  it('reads TSV through readDataset by extension', async () => {
    const p = file('d.tsv', 'prompt\tcompletion\nA\tB\n');
    expect(await readDataset(p).toArray()).toEqual([{ prompt: 'A', completion: 'B' }]);
  });

  it('names the file and line of a row with the wrong field count', async () => {
    await expect(collect(readCsv({ text: 'a,b\n1,2\n1,2,3\n', name: 'x.csv' }))).rejects.toThrow(/x\.csv:3: row has 3 fields but the header has 2 \(a, b\)/);
    await expect(collect(readCsv({ text: 'a\n"open\n', name: 'y.csv' }))).rejects.toThrow(/y\.csv:2: a quoted field is never closed/);
  });

  it('round-trips any table whatever the chunking (property)', async () => {
    const cell = fc.string({ maxLength: 6, unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r\n', ' ', 'é') });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(fc.array(cell, { minLength: 4, maxLength: 4 }), { maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }), async (ncol, rows, sizes) => {
        const cols = Array.from({ length: ncol }, (_, i) => `c${i}`);
        const table = rows.map((r) => r.slice(0, ncol));
        const quote = (s: string): string => `"${s.replaceAll('"', '""')}"`;
        const text = [cols.join(','), ...table.map((r) => r.map(quote).join(','))].join('\r\n') + '\r\n';
        const got = await collect(readCsv(chunked(text, sizes)));
        expect(got).toEqual(table.map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]]))));
      }),
      { numRuns },
    );
  });

  it('parser: unquoted fields and a final row without newline', () => {
    const p = new CsvParser(';');
    expect(p.push('a;b\n1;').map((r) => r.fields)).toEqual([['a', 'b']]);
    expect(p.push('2').length).toBe(0);
    expect(p.end().map((r) => r.fields)).toEqual([['1', '2']]);
  });
});

describe('readConll', () => {
  // The layout of the CoNLL-2003 English files: token POS chunk NER, -DOCSTART- lines, blank-line sentences.
  const conll = '-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\ncall NN I-NP O\n. . O O\n\nPeter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n';
  it('reads sentences with the NER column', async () => {
    expect(await collect(readConll({ text: conll }))).toEqual([
      { tokens: ['EU', 'rejects', 'German', 'call', '.'], tags: ['B-ORG', 'O', 'B-MISC', 'O', 'O'] },
      { tokens: ['Peter', 'Blackburn'], tags: ['B-PER', 'I-PER'] },
    ]);
  });

  it('picks another column and keeps all columns when asked', async () => {
    const [s] = await collect(readConll({ text: conll }, { tagColumn: 1, keepColumns: true }));
    expect(s!.tags[0]).toBe('NNP');
    expect(s!.columns![0]).toEqual(['EU', 'NNP', 'B-NP', 'B-ORG']);
  });

  it('names the line when a column is missing', async () => {
    await expect(collect(readConll({ text: 'EU B-ORG\nlonely\n', name: 'n.conll' }, { tagColumn: 1 }))).rejects.toThrow(/n\.conll:2: line has 1 column/);
  });

  it('refuses a one-column line with the default tag column instead of using the token as its own tag', async () => {
    await expect(collect(readConll({ text: 'EU B-ORG\nlonely\n', name: 'n.conll' }))).rejects.toThrow(/^n\.conll:2: line has 1 column\(s\) \("lonely"\); every line needs a token and its tag separated by whitespace \(e\.g\. "EU B-ORG"\): add the line's tag, or make it a blank line between sentences$/);
    await expect(collect(readConll({ text: 'EU NNP B-ORG\n', name: 'n.conll' }, { tagColumn: 3 }))).rejects.toThrow(/^n\.conll:1: line has 3 column\(s\) \("EU NNP B-ORG"\); tokenColumn 0 and tagColumn 3 need more; set them to the file's layout \(0 to 2, or negative from the end\)$/);
    await expect(collect(readConll({ text: 'EU\n', name: 'one.conll' }))).rejects.toThrow(/one\.conll:1: line has 1 column/);
  });
});

describe('sources', () => {
  it('reads Blobs/Files, file: URLs and text', async () => {
    const blob = new Blob(['{"a":1}\n{"a":2}\n']);
    expect(await collect(readJsonl(blob))).toEqual([{ a: 1 }, { a: 2 }]);
    const p = file('u.jsonl', '{"u":1}\n');
    expect(await collect(readJsonl(pathToFileURL(p)))).toEqual([{ u: 1 }]);
    const f = new File(['x\n\ny\n'], 'notes.txt');
    expect(await readDataset(f).toArray()).toEqual([{ text: 'x' }, { text: 'y' }]);
  });

  it('fetches http(s) URLs as a stream, and names a failed request', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/d.jsonl') {
        res.write('{"a":1}\n{"a"');
        setTimeout(() => res.end(':2}\n'), 5);
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      expect(await readDataset(new URL(`http://127.0.0.1:${port}/d.jsonl`)).toArray()).toEqual([{ a: 1 }, { a: 2 }]);
      await expect(collect(readJsonl(new URL(`http://127.0.0.1:${port}/missing.jsonl`)))).rejects.toThrow(/missing\.jsonl: GET answered 404; check the address/);
    } finally {
      server.close();
    }
  });

  it('plain text by line, paragraph or document', async () => {
    const text = 'a\nb\n\nc\n';
    expect(await collect(readTextRecords({ text }, { unit: 'paragraph' }))).toEqual([{ text: 'a\nb' }, { text: 'c' }]);
    expect(await collect(readTextRecords({ text }, { unit: 'document' }))).toEqual([{ text }]);
  });

  it('readDataset re-reads a file on every pass and names an unknown extension', async () => {
    const ds = readDataset(file('r.jsonl', '{"a":1}\n'));
    expect(await ds.toArray()).toEqual(await ds.toArray());
    expect(() => readDataset('data.parquet')).toThrow(/cannot tell the format of data\.parquet; pass \{ format/);
  });
});
