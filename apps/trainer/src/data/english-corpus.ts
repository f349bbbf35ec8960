import { SeededPicker } from './seeded-picker.js';
import { ANIMALS, CITIES, COLORS, FIRST_NAMES, JOBS, LAST_NAMES, MISC, NEGATIVE, NOUNS, NUMBER_WORDS, ORGS, POSITIVE, THINGS } from './word-lists.js';

// Plain English prose from templates: no instructions, no questions and no chat turns, so the base
// model learns the language and the skills the tasks lean on (recalling a fact stated earlier in
// the text, copying words in order and backwards, sums and differences, the sentiment of a review,
// what kind of thing a name is), but not the tasks' formats, which fine-tuning has to teach. A
// model that is never shown a text where an earlier word has to be copied learns no copying at all
// (the first default model, pretrained on narration alone, answered every copy task with a
// frequent word), so most paragraphs make the later text depend on the earlier.

const NARRATION: Array<(p: SeededPicker) => string> = [
  (p) => `${p.pick(FIRST_NAMES)} ${p.pick(LAST_NAMES)} works at ${p.pick(ORGS)} in ${p.pick(CITIES)}.`,
  (p) => `${p.pick(FIRST_NAMES)} moved to ${p.pick(CITIES)} after the ${p.pick(MISC)}.`,
  (p) => `There are ${p.pick(NUMBER_WORDS)} ${p.pick(ANIMALS)}s near the ${p.pick(NOUNS)}.`,
  (p) => `The ${p.pick(COLORS)} ${p.pick(NOUNS)} is next to the ${p.pick(COLORS)} ${p.pick(NOUNS)}.`,
  (p) => `${p.pick(FIRST_NAMES)} is a ${p.pick(JOBS)} and has a ${p.pick(ANIMALS)} called ${p.pick(FIRST_NAMES)}.`,
  (p) => `${p.pick(ORGS)} opened a new office in ${p.pick(CITIES)} last year.`,
  (p) => `${p.pick(FIRST_NAMES)} wrote a letter to ${p.pick(FIRST_NAMES)} about the ${p.pick(MISC)}.`,
  (p) => `The ${p.pick(MISC)} was held in ${p.pick(CITIES)}, and ${p.pick(ORGS)} hired ${p.pick(FIRST_NAMES)} ${p.pick(LAST_NAMES)}.`,
];

/** People, where they live and work and what they do; later sentences restate some of it. */
function peopleFacts(p: SeededPicker): string {
  const [x, y] = p.distinct(FIRST_NAMES, 2) as [string, string];
  const facts = [
    [x, 'lives in', p.pick(CITIES)],
    [y, 'is a', p.pick(JOBS)],
    [x, 'works at', p.pick(ORGS)],
    [y, 'lives in', p.pick(CITIES)],
  ].slice(0, p.int(2, 4)) as Array<[string, string, string]>;
  const stated = p.distinct(facts, facts.length).map(([who, rel, what]) => `${who} ${rel} ${what}.`);
  const [who, rel, what] = p.pick(facts);
  const recall = p.pick([
    `So ${who} ${rel} ${what}.`,
    `Remember that ${who} ${rel} ${what}.`,
    `As we said, ${who} ${rel} ${what}.`,
  ]);
  return `${stated.join(' ')} ${recall}`;
}

/** A short word list, then its first word, last word or the list backwards. */
function wordList(p: SeededPicker): string {
  const words = p.distinct([...NOUNS, ...ANIMALS, ...COLORS], p.int(2, 4));
  const list = words.join(' ');
  const said = p.pick([
    `The first word of ${list} is ${words[0]}.`,
    `The last word of ${list} is ${words.at(-1)}.`,
    `Backwards, ${list} reads ${[...words].reverse().join(' ')}.`,
    `Say ${list} in reverse order: ${[...words].reverse().join(' ')}.`,
    `The words were ${list}, and the first was ${words[0]}.`,
  ]);
  return said;
}

/** A run of words said twice: the densest copying signal, from which a small model learns to look back and copy (an induction head). */
function repeated(p: SeededPicker): string {
  const words = Array.from({ length: p.int(3, 6) }, () => p.pick([...NOUNS, ...ANIMALS, ...COLORS, ...FIRST_NAMES, ...CITIES, ...ORGS])).join(' ');
  return p.pick([`Say it twice: ${words}, ${words}.`, `They kept repeating ${words}, ${words}.`]);
}

/** Sums and differences of small numbers, in words and in symbols. */
function numbers(p: SeededPicker): string {
  const a = p.int(0, 20);
  const plus = p.chance(0.5);
  const b = plus ? p.int(0, 20) : p.int(0, a);
  const c = plus ? a + b : a - b;
  return plus
    ? p.pick([`${a} plus ${b} is ${c}.`, `${a} + ${b} = ${c}.`, `Adding ${b} to ${a} gives ${c}.`])
    : p.pick([`${a} minus ${b} is ${c}.`, `${a} - ${b} = ${c}.`, `If you take ${b} from ${a}, you get ${c}.`]);
}

/** A one-line review and whether it was positive or negative. */
function review(p: SeededPicker): string {
  const positive = p.chance(0.5);
  const word = p.pick(positive ? POSITIVE : NEGATIVE);
  const kind = positive ? 'positive' : 'negative';
  const thing = p.pick(THINGS);
  return p.pick([
    `The ${thing} was ${word}, so the review was ${kind}.`,
    `A ${kind} review: the ${thing} in ${p.pick(CITIES)} was ${word}.`,
    `Calling a ${thing} ${word} is ${kind}.`,
  ]);
}

/** What kind of thing a name is: a person, an organisation, a location or another name (an event). */
function nameKinds(p: SeededPicker): string {
  const person = p.chance(0.5) ? `${p.pick(FIRST_NAMES)} ${p.pick(LAST_NAMES)}` : p.pick(FIRST_NAMES);
  return p.pick([
    `${person} is a person.`,
    `${p.pick(ORGS)} is an organisation.`,
    `${p.pick(CITIES)} is a location.`,
    `The ${p.pick(MISC)} is an event.`,
    `${person} is a person, ${p.pick(ORGS)} is an organisation and ${p.pick(CITIES)} is a location.`,
  ]);
}

const SENTENCE_KINDS: Array<[weight: number, make: (p: SeededPicker) => string]> = [
  [1, (p) => p.pick(NARRATION)(p)],
  [3, peopleFacts],
  [3, wordList],
  [3, repeated],
  [2, numbers],
  [1, review],
  [1, nameKinds],
];

/** `count` paragraphs of 2–4 sentences (or short runs of them) each, fixed by `seed`. */
export function englishCorpus(seed: number, count: number): string[] {
  const p = new SeededPicker(seed);
  const total = SENTENCE_KINDS.reduce((s, [w]) => s + w, 0);
  const sentence = (): string => {
    let r = p.random.next() * total;
    for (const [w, make] of SENTENCE_KINDS) if ((r -= w) < 0) return make(p);
    return SENTENCE_KINDS[0]![1](p);
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = p.int(2, 4);
    const parts: string[] = [];
    for (let k = 0; k < n; k++) parts.push(sentence());
    // Some line breaks, so the newline the chat template puts after each role tag is a known token.
    out.push(parts.map((s, k) => (k === 0 ? s : `${p.chance(0.3) ? '\n' : ' '}${s}`)).join(''));
  }
  return out;
}
