import type { SplitBehavior } from '../normalized-string.js';
import { patternFromJSON } from '../pattern.js';
import { BertPreTokenizer } from './bert-pre-tokenizer.js';
import { ByteLevelPreTokenizer } from './byte-level.js';
import { CharClassPattern } from './char-class-pattern.js';
import { DigitsPreTokenizer } from './digits.js';
import { MetaspacePreTokenizer, type PrependScheme } from './metaspace.js';
import type { PreTokenizer } from './pre-tokenizer.js';
import { PunctuationPreTokenizer } from './punctuation.js';
import { SequencePreTokenizer } from './sequence.js';
import { FixedLengthPreTokenizer } from './fixed-length.js';
import { SplitPreTokenizer } from './split.js';
import { UnicodeScriptsPreTokenizer } from './unicode-scripts.js';
import { WhitespacePreTokenizer, WhitespaceSplitPreTokenizer } from './whitespace.js';

const SUPPORTED = ['ByteLevel', 'Split', 'Whitespace', 'WhitespaceSplit', 'Punctuation', 'Digits', 'Metaspace', 'BertPreTokenizer', 'CharDelimiterSplit', 'UnicodeScripts', 'FixedLength', 'Sequence'];
const BEHAVIORS = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];

function behaviorFromJSON(v: unknown, where: string, fallback: SplitBehavior): SplitBehavior {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !BEHAVIORS.includes(v)) throw new Error(`${where}.behavior: expected one of ${BEHAVIORS.join(', ')}, got ${JSON.stringify(v)}`);
  return v as SplitBehavior;
}

/** Builds a pre-tokenizer from its tokenizer.json object (null means none). */
export function preTokenizerFromJSON(json: unknown, where = 'pre_tokenizer'): PreTokenizer | null {
  if (json === null || json === undefined) return null;
  const j = json as Record<string, unknown>;
  if (typeof j !== 'object' || typeof j.type !== 'string') throw new Error(`${where}: expected an object with a string "type", got ${JSON.stringify(json)?.slice(0, 200)}`);
  switch (j.type) {
    case 'ByteLevel':
      return new ByteLevelPreTokenizer({ addPrefixSpace: j.add_prefix_space !== false, trimOffsets: j.trim_offsets !== false, useRegex: j.use_regex !== false });
    case 'Split':
      return new SplitPreTokenizer(patternFromJSON(j.pattern, where), behaviorFromJSON(j.behavior, where, 'Isolated'), j.invert === true, j);
    case 'Whitespace':
      return new WhitespacePreTokenizer();
    case 'WhitespaceSplit':
      return new WhitespaceSplitPreTokenizer();
    case 'Punctuation':
      return new PunctuationPreTokenizer(behaviorFromJSON(j.behavior, where, 'Isolated'));
    case 'Digits':
      return new DigitsPreTokenizer(j.individual_digits === true);
    case 'Metaspace': {
      const replacement = typeof j.replacement === 'string' ? j.replacement : '▁';
      let scheme: PrependScheme;
      if (typeof j.prepend_scheme === 'string') scheme = j.prepend_scheme as PrependScheme;
      else scheme = j.add_prefix_space === false ? 'never' : 'always';
      if (!['always', 'first', 'never'].includes(scheme)) throw new Error(`${where}.prepend_scheme: expected "always", "first" or "never", got ${JSON.stringify(j.prepend_scheme)}`);
      return new MetaspacePreTokenizer(replacement, scheme, j.split !== false);
    }
    case 'BertPreTokenizer':
      return new BertPreTokenizer();
    case 'CharDelimiterSplit': {
      const d = j.delimiter;
      if (typeof d !== 'string' || [...d].length !== 1) throw new Error(`${where}.delimiter: expected a single char, got ${JSON.stringify(d)}`);
      const pattern = new CharClassPattern((c) => c === d);
      return { split: (p) => p.split(pattern, 'Removed'), toJSON: () => j };
    }
    case 'UnicodeScripts':
      return new UnicodeScriptsPreTokenizer();
    case 'FixedLength': {
      const n = j.length ?? 5;
      if (typeof n !== 'number' || n < 1 || n % 1 !== 0) throw new Error(`${where}.length: expected a positive integer number of chars, got ${JSON.stringify(j.length)}`);
      return new FixedLengthPreTokenizer(n);
    }
    case 'Sequence': {
      if (!Array.isArray(j.pretokenizers)) throw new Error(`${where}.pretokenizers: expected an array of pre-tokenizers, got ${JSON.stringify(j.pretokenizers)}`);
      return new SequencePreTokenizer(j.pretokenizers.map((x, i) => preTokenizerFromJSON(x, `${where}.pretokenizers[${i}]`)).filter((x): x is PreTokenizer => x !== null));
    }
    default:
      throw new Error(`${where}.type: unknown pre-tokenizer ${JSON.stringify(j.type)}; supported: ${SUPPORTED.join(', ')}`);
  }
}
