/**
 * A deterministic, varied comparison corpus (seeded), built from the categories the correctness
 * bar lists: prose, code, numbers, CJK, Arabic, Devanagari, emoji and ZWJ sequences, mixed
 * whitespace, special tokens inside text, invalid surrogates, very long words.
 */
import { mulberry32 } from '../src/mulberry32.js';

/** The package's seeded mulberry32, so the corpus is identical on every run. */
export const rng = mulberry32;

const PROSE = [
  "The quick brown fox jumps over the lazy dog.", "It's a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.",
  "I'd've thought they'll say we're fine — but you've never seen THE DOG'S bowl!", "Dr. Smith (née Jones) arrived at 3:45 p.m.; she wasn't late.",
  "Hello, world! How are you doing today?", "naïve café résumé coöperate façade jalapeño", "E = mc² and ∑ᵢ xᵢ² ≥ 0 — trivially.",
  "She said: \"Don't go there.\" He replied, 'Why not?'", "Straße, ÆØÅ, œuvre, İstanbul, ΣΊΣΥΦΟΣ", "Fine-tuning LLMs in TypeScript is fun... isn't it???",
];
const CODE = [
  "function add(a, b) {\n  return a + b;\n}\n", "def fib(n):\n    if n < 2:\n        return n\n    return fib(n-1) + fib(n-2)\n",
  "const x = arr.map((v) => v * 2).filter(Boolean);", "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); }",
  "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;", "<div class=\"box\"><a href='https://example.com/?q=1&r=2'>link</a></div>",
  "if (x !== null && y?.z) { console.log(`${x}:${y}`); }", "    for i in range(10):\n\tprint(i)\r\n", "{\"key\": [1, 2.5, -3e10, true, null]}",
  "git commit -m 'fix: handle \\r\\n' && npm run build -- --watch",
];
const CJK = ["我爱自然语言处理。", "東京は日本の首都です。", "한국어 텍스트 토큰화", "漢字かなカナ交じり文", "中文，标点！还有“引号”。", "𠀀𠀁𪜀 rare CJK ext B"];
const ARABIC = ["مرحبا بالعالم", "اللغة العربية جميلة جداً", "السَّلَامُ عَلَيْكُمْ", "١٢٣ ٤٥٦"];
const DEVANAGARI = ["नमस्ते दुनिया", "हिन्दी भाषा", "क्षत्रिय ज्ञान श्री", "०१२३४५६७८९"];
const EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇯🇵", "🤷‍♀️", "🧑🏿‍💻", "✨", "🫠", "1️⃣"];
const SPACES = [" ", "  ", "   ", "\t", "\t\t", "\n", "\r\n", "\n\n", "\u00a0", "\u3000", "\u2009", " \t ", "\r", "\u200b", "\u0085", "\ufeff"];
const NUMBERS = ["0", "7", "42", "123", "1234", "12345", "3.14159", "-0.001", "1,000,000", "2024-01-31", "1e-9", "0x1F", "٣", "½", "²"];
const WORDS = ["the", "of", "and", "token", "izer", "running", "unbelievable", "Tessera", "LoRA", "PyTorch", "don't", "I'm", "they're", "HELLO", "x", "a", "ab"];
const ODD = ["\ud800", "\udc00", "a\ud83dz", "\udfff\ud800", "\u0301", "e\u0301", "\u0000", "\u001b[31m", "\uffff", "\ufffd", "ﬁ", "Ⅻ", "ｆｕｌｌｗｉｄｔｈ", "𝔾𝕠𝕠𝕕"];

const COMBINING = ['a', 'e', 'o', 'A', ' ', '\u0301', '\u0302', '\u0323', '\u0327', '\u0308', '\u1100', '\u1161', '\u11a8', '\u0915', '\u093c', '\u212b', 'ﬁ', '①', '\u3099', 'か'];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function randomUnicode(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const bucket = r();
    let cp: number;
    if (bucket < 0.4) cp = 0x20 + Math.floor(r() * 0x5f);
    else if (bucket < 0.6) cp = 0xa0 + Math.floor(r() * 0x2000);
    else if (bucket < 0.75) cp = 0x3000 + Math.floor(r() * 0x7000);
    else if (bucket < 0.85) cp = 0x1f300 + Math.floor(r() * 0x700);
    else if (bucket < 0.9) cp = Math.floor(r() * 0x20);
    else if (bucket < 0.95) cp = 0xd800 + Math.floor(r() * 0x800);
    else cp = Math.floor(r() * 0x10ffff);
    s += cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
  }
  return s;
}

/** Builds `n` strings; `specials` are special-token texts to sprinkle inside some of them. */
export function buildCorpus(n: number, specials: string[], seed = 20261128): string[] {
  const r = rng(seed);
  const out: string[] = [];
  const categories = [
    () => pick(r, PROSE),
    () => pick(r, CODE),
    () => pick(r, CJK) + pick(r, SPACES) + pick(r, CJK),
    () => pick(r, ARABIC) + ' ' + pick(r, NUMBERS),
    () => pick(r, DEVANAGARI) + pick(r, SPACES) + pick(r, PROSE),
    () => Array.from({ length: 1 + Math.floor(r() * 5) }, () => pick(r, EMOJI)).join(r() < 0.5 ? '' : ' '),
    () => Array.from({ length: 2 + Math.floor(r() * 8) }, () => pick(r, WORDS) + pick(r, SPACES)).join(''),
    () => Array.from({ length: 1 + Math.floor(r() * 6) }, () => pick(r, NUMBERS)).join(pick(r, [' ', '', ',', '+'])),
    () => pick(r, PROSE) + ' ' + (specials.length ? pick(r, specials) : '') + pick(r, ['', ' ', '\n']) + pick(r, WORDS),
    () => (specials.length ? pick(r, specials) + pick(r, specials) : '') + pick(r, CODE) + (specials.length ? pick(r, specials) : ''),
    () => pick(r, ODD) + pick(r, WORDS) + pick(r, ODD),
    () => pick(r, ['a', 'x', 'ab', 'ZZ', '9', '漢', 'é', '🙂']).repeat(50 + Math.floor(r() * 400)),
    () => Array.from({ length: 40 + Math.floor(r() * 200) }, () => pick(r, [...'abcdefghijklmnopqrstuvwxyz'])).join(''),
    () => randomUnicode(r, 1 + Math.floor(r() * 40)),
    // Decomposed and composable sequences, for the Unicode normalizers' alignments.
    () => Array.from({ length: 1 + Math.floor(r() * 12) }, () => pick(r, COMBINING)).join(''),
    () => pick(r, SPACES).repeat(1 + Math.floor(r() * 6)) + pick(r, PROSE) + pick(r, SPACES).repeat(1 + Math.floor(r() * 6)),
    () => Array.from({ length: 3 + Math.floor(r() * 6) }, () => pick(r, [pick(r, PROSE), pick(r, CJK), pick(r, EMOJI), pick(r, SPACES), pick(r, NUMBERS), pick(r, ARABIC), pick(r, ODD)])).join(''),
  ];
  out.push('', ' ', '  ', '\n', 'a', '\r\n\r\n', ...specials);
  while (out.length < n) out.push(pick(r, categories)());
  return out;
}
