import { SeededPicker } from './seeded-picker.js';
import { ANIMALS, CITIES, COLORS, FIRST_NAMES, JOBS, LAST_NAMES, MISC, NEGATIVE, NOUNS, NUMBER_WORDS, ORGS, POSITIVE, THINGS } from './word-lists.js';

// Plain English prose from templates: no instructions and no chat turns, so the base model learns
// the language and the names but not the tasks, which fine-tuning has to teach.
const SENTENCES: Array<(p: SeededPicker) => string> = [
  (p) => `${p.pick(FIRST_NAMES)} ${p.pick(LAST_NAMES)} works at ${p.pick(ORGS)} in ${p.pick(CITIES)}.`,
  (p) => `${p.pick(FIRST_NAMES)} moved to ${p.pick(CITIES)} after the ${p.pick(MISC)}.`,
  (p) => `The ${p.pick(THINGS)} was ${p.pick(POSITIVE)} and everyone was happy.`,
  (p) => `The ${p.pick(THINGS)} was ${p.pick(NEGATIVE)} and nobody enjoyed it.`,
  (p) => `I think the ${p.pick(THINGS)} in ${p.pick(CITIES)} is ${p.pick([...POSITIVE, ...NEGATIVE])}.`,
  (p) => {
    const a = p.int(0, 50);
    const b = p.int(0, 50);
    return `${a} plus ${b} is ${a + b}.`;
  },
  (p) => {
    const a = p.int(10, 99);
    const b = p.int(0, a);
    return `If you take ${b} from ${a}, you get ${a - b}.`;
  },
  (p) => `There are ${p.pick(NUMBER_WORDS)} ${p.pick(ANIMALS)}s near the ${p.pick(NOUNS)}.`,
  (p) => `The ${p.pick(COLORS)} ${p.pick(NOUNS)} is next to the ${p.pick(COLORS)} ${p.pick(NOUNS)}.`,
  (p) => `${p.pick(FIRST_NAMES)} is a ${p.pick(JOBS)} and has a ${p.pick(ANIMALS)} called ${p.pick(FIRST_NAMES)}.`,
  (p) => `${p.pick(ORGS)} opened a new office in ${p.pick(CITIES)} last year.`,
  (p) => `Her favourite colour is ${p.pick(COLORS)}, and his is ${p.pick(COLORS)}.`,
  (p) => `The words ${p.pick(NOUNS)}, ${p.pick(NOUNS)} and ${p.pick(NOUNS)} are common nouns.`,
  (p) => `${p.pick(FIRST_NAMES)} wrote a letter to ${p.pick(FIRST_NAMES)} about the ${p.pick(MISC)}.`,
];

/** `count` paragraphs of 3–6 template sentences each, fixed by `seed`. */
export function englishCorpus(seed: number, count: number): string[] {
  const p = new SeededPicker(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = p.int(3, 6);
    const parts: string[] = [];
    for (let k = 0; k < n; k++) parts.push(p.pick(SENTENCES)(p));
    out.push(parts.join(' '));
  }
  return out;
}
