import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * A ~10 MB English-prose-and-code corpus assembled deterministically from the Markdown and
 * TypeScript declaration files that the workspace's locked dependencies install (sorted paths),
 * cut into documents of at most ~8 KB at blank lines.
 */
export function loadCorpus(root, targetBytes = 10 * 1024 * 1024) {
  const md = [];
  const dts = [];
  const walk = (dir, depth) => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory() && depth < 12 && !e.isSymbolicLink()) walk(p, depth + 1);
      else if (e.isFile() && e.name.endsWith('.md')) md.push(p);
      else if (e.isFile() && e.name.endsWith('.d.ts') && statSync(p).size > 4096) dts.push(p);
    }
  };
  walk(root, 0);
  md.sort();
  dts.sort();
  const docs = [];
  let bytes = 0;
  const seen = new Set();
  for (const file of [...md, ...dts]) {
    if (bytes >= targetBytes) break;
    const text = readFileSync(file, 'utf8');
    if (seen.has(text)) continue;
    seen.add(text);
    for (const doc of splitDocuments(text)) {
      if (bytes >= targetBytes) break;
      docs.push(doc);
      bytes += Buffer.byteLength(doc);
    }
  }
  const sha256 = createHash('sha256').update(docs.join('\u0000')).digest('hex');
  return { docs, bytes, sha256, files: md.length + dts.length, root: relative(process.cwd(), root) || '.' };
}

function* splitDocuments(text) {
  let cur = '';
  for (const para of text.split(/(?<=\n\n)/)) {
    if (cur.length + para.length > 8192 && cur.length > 0) {
      yield cur;
      cur = '';
    }
    cur += para;
  }
  if (cur.length > 0) yield cur;
}
