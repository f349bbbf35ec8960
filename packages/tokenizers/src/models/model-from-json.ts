import { Bpe, type MergeJSON, type PackedMerges } from './bpe.js';
import type { Model } from './model.js';
import { Unigram } from './unigram.js';
import { WordLevel } from './word-level.js';
import { Vocabulary } from './vocabulary.js';
import { WordPiece } from './word-piece.js';

const SUPPORTED = ['BPE', 'WordPiece', 'Unigram', 'WordLevel'];

function vocabFromJSON(v: unknown, where: string): Map<string, number> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}.vocab: expected an object mapping token to id, got ${Array.isArray(v) ? 'an array' : JSON.stringify(v)}`);
  const m = new Map<string, number>();
  const o = v as Record<string, unknown>;
  // for...in avoids materializing 100k+ [key, value] pairs on large vocabularies.
  for (const t in o) {
    const id = o[t];
    if (typeof id !== 'number' || id < 0 || id % 1 !== 0) throw new Error(`${where}.vocab[${JSON.stringify(t)}]: expected a non-negative integer id, got ${JSON.stringify(id)}`);
    m.set(t, id);
  }
  return m;
}

/** A BPE model's vocab and merges already decoded from the file text (see tokenizer-json-text.ts). */
export interface DecodedBpeParts {
  vocab: Vocabulary;
  merges: PackedMerges | null;
}

/** Builds a model from the tokenizer.json `model` object (`decoded` replaces its vocab and merges when given). */
export function modelFromJSON(json: unknown, where = 'model', decoded?: DecodedBpeParts): Model {
  const j = json as Record<string, unknown>;
  if (j === null || typeof j !== 'object') throw new Error(`${where}: expected an object, got ${JSON.stringify(json)}`);
  // Old files omit the type; infer it from the fields as the Rust library does.
  const type = typeof j.type === 'string' ? j.type : Array.isArray(j.vocab) ? 'Unigram' : j.merges !== undefined ? 'BPE' : j.continuing_subword_prefix !== undefined ? 'WordPiece' : 'WordLevel';
  switch (type) {
    case 'BPE':
      if (j.dropout !== null && j.dropout !== undefined && (typeof j.dropout !== 'number' || !(j.dropout >= 0 && j.dropout <= 1))) throw new Error(`${where}.dropout: expected null or a probability in [0, 1], got ${JSON.stringify(j.dropout)}`);
      if (j.merges !== undefined && j.merges !== null && !Array.isArray(j.merges)) throw new Error(`${where}.merges: expected an array of "a b" strings or [a, b] pairs, got ${JSON.stringify(j.merges)?.slice(0, 100)}`);
      return new Bpe(decoded ? decoded.vocab : Vocabulary.fromJSON(j.vocab, where), decoded ? (decoded.merges ?? []) : ((j.merges as MergeJSON[] | null | undefined) ?? []), {
        unkToken: (j.unk_token as string | null | undefined) ?? null,
        continuingSubwordPrefix: (j.continuing_subword_prefix as string | null | undefined) || null,
        endOfWordSuffix: (j.end_of_word_suffix as string | null | undefined) || null,
        fuseUnk: j.fuse_unk === true,
        byteFallback: j.byte_fallback === true,
        ignoreMerges: j.ignore_merges === true,
        dropout: (j.dropout as number | null | undefined) ?? null,
      }, where);
    case 'WordPiece':
      return new WordPiece(vocabFromJSON(j.vocab, where), {
        unkToken: typeof j.unk_token === 'string' ? j.unk_token : '[UNK]',
        continuingSubwordPrefix: typeof j.continuing_subword_prefix === 'string' ? j.continuing_subword_prefix : '##',
        maxInputCharsPerWord: typeof j.max_input_chars_per_word === 'number' ? j.max_input_chars_per_word : 100,
      });
    case 'Unigram': {
      if (!Array.isArray(j.vocab)) throw new Error(`${where}.vocab: expected an array of [piece, score] pairs, got ${JSON.stringify(j.vocab)?.slice(0, 100)}`);
      const pieces = j.vocab.map((p, i): [string, number] => {
        if (!Array.isArray(p) || typeof p[0] !== 'string' || typeof p[1] !== 'number') throw new Error(`${where}.vocab[${i}]: expected [piece, score], got ${JSON.stringify(p)}`);
        return [p[0], p[1]];
      });
      return new Unigram(pieces, typeof j.unk_id === 'number' ? j.unk_id : null, j.byte_fallback === true);
    }
    case 'WordLevel':
      return new WordLevel(vocabFromJSON(j.vocab, where), typeof j.unk_token === 'string' ? j.unk_token : '<unk>');
    default:
      throw new Error(`${where}.type: unknown model ${JSON.stringify(type)}; supported: ${SUPPORTED.join(', ')}`);
  }
}
