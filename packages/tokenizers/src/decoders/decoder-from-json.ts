import { patternFromJSON } from '../pattern.js';
import type { PrependScheme } from '../pre-tokenizers/metaspace.js';
import { BpeDecoder } from './bpe-decoder.js';
import { ByteFallbackDecoder } from './byte-fallback.js';
import { ByteLevelDecoder } from './byte-level.js';
import { CtcDecoder } from './ctc.js';
import type { Decoder } from './decoder.js';
import { FuseDecoder } from './fuse.js';
import { MetaspaceDecoder } from './metaspace.js';
import { ReplaceDecoder } from './replace.js';
import { SequenceDecoder } from './sequence.js';
import { StripDecoder } from './strip.js';
import { WordPieceDecoder } from './word-piece.js';

const SUPPORTED = ['ByteLevel', 'Metaspace', 'WordPiece', 'ByteFallback', 'Fuse', 'Strip', 'Replace', 'BPEDecoder', 'CTC', 'Sequence'];

/** Builds a decoder from its tokenizer.json object (null means none). */
export function decoderFromJSON(json: unknown, where = 'decoder'): Decoder | null {
  if (json === null || json === undefined) return null;
  const j = json as Record<string, unknown>;
  if (typeof j !== 'object' || typeof j.type !== 'string') throw new Error(`${where}: expected an object with a string "type", got ${JSON.stringify(json)?.slice(0, 200)}`);
  switch (j.type) {
    case 'ByteLevel':
      return new ByteLevelDecoder(j);
    case 'Metaspace': {
      const scheme = (typeof j.prepend_scheme === 'string' ? j.prepend_scheme : j.add_prefix_space === false ? 'never' : 'always') as PrependScheme;
      return new MetaspaceDecoder(typeof j.replacement === 'string' ? j.replacement : '▁', scheme, j.split !== false);
    }
    case 'WordPiece':
      return new WordPieceDecoder(typeof j.prefix === 'string' ? j.prefix : '##', j.cleanup !== false);
    case 'ByteFallback':
      return new ByteFallbackDecoder();
    case 'Fuse':
      return new FuseDecoder();
    case 'Strip':
      if (typeof j.content !== 'string') throw new Error(`${where}.content: expected a single char, got ${JSON.stringify(j.content)}`);
      return new StripDecoder(j.content, Number(j.start ?? 0), Number(j.stop ?? 0));
    case 'Replace':
      if (typeof j.content !== 'string') throw new Error(`${where}.content: expected a string, got ${JSON.stringify(j.content)}`);
      return new ReplaceDecoder(patternFromJSON(j.pattern, where), j.content, j);
    case 'BPEDecoder':
      return new BpeDecoder(typeof j.suffix === 'string' ? j.suffix : '</w>');
    case 'CTC':
      return new CtcDecoder(typeof j.pad_token === 'string' ? j.pad_token : '<pad>', typeof j.word_delimiter_token === 'string' ? j.word_delimiter_token : '|', j.cleanup !== false);
    case 'Sequence':
      if (!Array.isArray(j.decoders)) throw new Error(`${where}.decoders: expected an array of decoders, got ${JSON.stringify(j.decoders)}`);
      return new SequenceDecoder(j.decoders.map((d, i) => decoderFromJSON(d, `${where}.decoders[${i}]`)).filter((d): d is Decoder => d !== null));
    default:
      throw new Error(`${where}.type: unknown decoder ${JSON.stringify(j.type)}; supported: ${SUPPORTED.join(', ')}`);
  }
}
