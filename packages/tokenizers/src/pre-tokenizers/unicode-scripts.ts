import type { NormalizedString } from '../normalized-string.js';
import type { PreTokenizer } from './pre-tokenizer.js';
import { SCRIPT_EXCEPTIONS } from './unicode-script-exceptions.js';

/**
 * The scripts the Rust UnicodeScripts pre-tokenizer knows (its table is SentencePiece's, from an
 * older Unicode version); a char of any other script, or unassigned, counts as "Any" there.
 */
export const RUST_SCRIPTS = ['Latin', 'Common', 'Han', 'Inherited', 'Greek', 'Cyrillic', 'Arabic', 'Hangul', 'Hiragana', 'Katakana', 'Devanagari', 'Hebrew', 'Thai', 'Adlam', 'Ahom', 'Anatolian_Hieroglyphs', 'Armenian', 'Avestan', 'Balinese', 'Bamum', 'Bassa_Vah', 'Batak', 'Bengali', 'Bhaiksuki', 'Bopomofo', 'Brahmi', 'Braille', 'Buginese', 'Buhid', 'Canadian_Aboriginal', 'Carian', 'Caucasian_Albanian', 'Chakma', 'Cham', 'Cherokee', 'Coptic', 'Cuneiform', 'Cypriot', 'Deseret', 'Duployan', 'Egyptian_Hieroglyphs', 'Elbasan', 'Ethiopic', 'Georgian', 'Glagolitic', 'Gothic', 'Grantha', 'Gujarati', 'Gurmukhi', 'Hanunoo', 'Hatran', 'Imperial_Aramaic', 'Inscriptional_Pahlavi', 'Inscriptional_Parthian', 'Javanese', 'Kaithi', 'Kannada', 'Kayah_Li', 'Kharoshthi', 'Khmer', 'Khojki', 'Khudawadi', 'Lao', 'Lepcha', 'Limbu', 'Linear_A', 'Linear_B', 'Lisu', 'Lycian', 'Lydian', 'Mahajani', 'Malayalam', 'Mandaic', 'Manichaean', 'Marchen', 'Meetei_Mayek', 'Mende_Kikakui', 'Meroitic_Cursive', 'Meroitic_Hieroglyphs', 'Miao', 'Modi', 'Mongolian', 'Mro', 'Multani', 'Myanmar', 'Nabataean', 'New_Tai_Lue', 'Newa', 'Nko', 'Ogham', 'Ol_Chiki', 'Old_Hungarian', 'Old_Italic', 'Old_North_Arabian', 'Old_Permic', 'Old_Persian', 'Old_South_Arabian', 'Old_Turkic', 'Oriya', 'Osage', 'Osmanya', 'Pahawh_Hmong', 'Palmyrene', 'Pau_Cin_Hau', 'Phags_Pa', 'Phoenician', 'Psalter_Pahlavi', 'Rejang', 'Runic', 'Samaritan', 'Saurashtra', 'Sharada', 'Shavian', 'Siddham', 'SignWriting', 'Sinhala', 'Sora_Sompeng', 'Sundanese', 'Syloti_Nagri', 'Syriac', 'Tagalog', 'Tagbanwa', 'Tai_Le', 'Tai_Tham', 'Tai_Viet', 'Takri', 'Tamil', 'Tangut', 'Telugu', 'Thaana', 'Tibetan', 'Tifinagh', 'Tirhuta', 'Ugaritic', 'Vai', 'Warang_Citi', 'Yi'];

/** "Any": never starts a piece and does not change the current script (spaces, unknown chars). */
export const ANY_SCRIPT = 'Any';

let scriptTests: Array<[string, RegExp]> | null = null;
const cache = new Map<number, string>();

/** The script of a code point in this JavaScript engine's Unicode, mapped as the Rust pre-tokenizer maps it. */
export function engineScript(cp: number): string {
  // SentencePiece's adjustments: kana and the prolonged sound mark count as Han, space as Any.
  if (cp === 0x30fc) return 'Han';
  if (cp === 0x20) return ANY_SCRIPT;
  scriptTests ??= RUST_SCRIPTS.map((s) => [s, new RegExp(`^\\p{Script=${s}}$`, 'u')]);
  const c = String.fromCodePoint(cp);
  for (const [name, re] of scriptTests) {
    if (re.test(c)) return name === 'Hiragana' || name === 'Katakana' ? 'Han' : name;
  }
  return ANY_SCRIPT;
}

/** The script the Rust UnicodeScripts pre-tokenizer sees for a code point. */
export function rustScript(cp: number): string {
  let s = cache.get(cp);
  if (s !== undefined) return s;
  s = exceptionFor(cp) ?? engineScript(cp);
  cache.set(cp, s);
  return s;
}

function exceptionFor(cp: number): string | null {
  // Binary search in the sorted [start, end, script] table.
  let lo = 0;
  let hi = SCRIPT_EXCEPTIONS.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b, name] = SCRIPT_EXCEPTIONS[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return name;
  }
  return null;
}

/**
 * Splits where the script changes (Rust `UnicodeScripts`): "Any" chars join the piece they are
 * in. As in the reference, text before the first char that has a script is dropped.
 */
export class UnicodeScriptsPreTokenizer implements PreTokenizer {
  split(piece: NormalizedString): NormalizedString[] {
    const s = piece.normalized;
    const cuts: number[] = [];
    let last: string | null = null;
    for (let i = 0; i < s.length; ) {
      const cp = s.codePointAt(i)!;
      const script = rustScript(cp);
      if (script !== ANY_SCRIPT && last !== ANY_SCRIPT && last !== script) cuts.push(i);
      if (script !== ANY_SCRIPT) last = script;
      i += cp > 0xffff ? 2 : 1;
    }
    cuts.push(s.length);
    const out: NormalizedString[] = [];
    for (let k = 0; k + 1 < cuts.length; k++) out.push(piece.slice(cuts[k]!, cuts[k + 1]!));
    return out;
  }
  toJSON(): Record<string, unknown> {
    return { type: 'UnicodeScripts' };
  }
}
