import { patternFromJSON } from '../pattern.js';
import { BertNormalizer } from './bert-normalizer.js';
import { ByteLevelNormalizer } from './byte-level.js';
import { LowercaseNormalizer } from './lowercase.js';
import type { Normalizer } from './normalizer.js';
import { NmtNormalizer } from './nmt.js';
import { PrecompiledNormalizer } from './precompiled.js';
import { PrependNormalizer } from './prepend.js';
import { ReplaceNormalizer } from './replace.js';
import { SequenceNormalizer } from './sequence.js';
import { StripAccentsNormalizer, StripNormalizer } from './strip.js';
import { UnicodeNormalizer } from './unicode-forms.js';

const SUPPORTED = ['NFC', 'NFD', 'NFKC', 'NFKD', 'Lowercase', 'Strip', 'StripAccents', 'Replace', 'Prepend', 'Sequence', 'BertNormalizer', 'Nmt', 'Precompiled', 'ByteLevel'];

/** Builds a normalizer from its tokenizer.json object (null means none). */
export function normalizerFromJSON(json: unknown, where = 'normalizer'): Normalizer | null {
  if (json === null || json === undefined) return null;
  const j = json as Record<string, unknown>;
  if (typeof j !== 'object' || typeof j.type !== 'string') throw new Error(`${where}: expected an object with a string "type", got ${JSON.stringify(json)?.slice(0, 200)}`);
  switch (j.type) {
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
      return new UnicodeNormalizer(j.type);
    case 'Lowercase':
      return new LowercaseNormalizer();
    case 'Strip':
      return new StripNormalizer(j.strip_left !== false, j.strip_right !== false);
    case 'StripAccents':
      return new StripAccentsNormalizer();
    case 'Replace':
      if (typeof j.content !== 'string') throw new Error(`${where}.content: expected a string, got ${JSON.stringify(j.content)}`);
      return new ReplaceNormalizer(patternFromJSON(j.pattern, where), j.content, j);
    case 'Prepend':
      if (typeof j.prepend !== 'string') throw new Error(`${where}.prepend: expected a string, got ${JSON.stringify(j.prepend)}`);
      return new PrependNormalizer(j.prepend);
    case 'Sequence': {
      if (!Array.isArray(j.normalizers)) throw new Error(`${where}.normalizers: expected an array of normalizers, got ${JSON.stringify(j.normalizers)}`);
      return new SequenceNormalizer(j.normalizers.map((x, i) => normalizerFromJSON(x, `${where}.normalizers[${i}]`)).filter((x): x is Normalizer => x !== null));
    }
    case 'BertNormalizer':
      return new BertNormalizer({
        cleanText: j.clean_text !== false,
        handleChineseChars: j.handle_chinese_chars !== false,
        stripAccents: (j.strip_accents as boolean | null | undefined) ?? null,
        lowercase: j.lowercase !== false,
      });
    case 'Nmt':
      return new NmtNormalizer();
    case 'Precompiled':
      if (typeof j.precompiled_charsmap !== 'string') throw new Error(`${where}.precompiled_charsmap: expected the base64 text of a SentencePiece charsmap, got ${JSON.stringify(j.precompiled_charsmap)?.slice(0, 100)}`);
      return new PrecompiledNormalizer(j.precompiled_charsmap);
    case 'ByteLevel':
      return new ByteLevelNormalizer();
    default:
      throw new Error(`${where}.type: unknown normalizer ${JSON.stringify(j.type)}; supported: ${SUPPORTED.join(', ')}`);
  }
}
