import { SeededPicker } from './seeded-picker.js';
import { ANIMALS, CITIES, COLORS, FIRST_NAMES, JOBS, LAST_NAMES, MISC, NEGATIVE, NOUNS, NUMBER_WORDS, ORGS, POSITIVE, THINGS } from './word-lists.js';

// Plain English prose from templates: no instructions and no chat turns, so the base model learns
// the language and the skills the tasks lean on (recalling a fact stated earlier in the text,
// copying words in order and backwards, sums and differences, the sentiment of a review, picking
// the names out of a sentence with their kind), but not the tasks' formats, which fine-tuning has
// to teach. A model that is never shown a text where an earlier word has to be copied learns no
// copying at all (the first default model, pretrained on narration alone, answered every copy task
// with a frequent word), and one shown too little of it in 500 steps still did not (the second);
// so most sentences make the later text depend on the earlier, runs of random words are said twice
// (only copying predicts the repeat), and some facts and lists are followed by a question in prose
// and its answer, as reading-comprehension text is in real corpora.

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

/** People, where they live and work and what they do; a later sentence restates or asks about one of the facts. */
function peopleFacts(p: SeededPicker): string {
  const [x, y] = p.distinct(FIRST_NAMES, 2) as [string, string];
  const [a, b] = p.chance(0.5) ? [x, y] : [y, x];
  const facts: Array<[string, 'lives in' | 'is a' | 'works at', string]> = [
    [a, 'lives in', p.pick(CITIES)],
    [b, 'is a', p.pick(JOBS)],
    [a, 'works at', p.pick(ORGS)],
    [b, 'lives in', p.pick(CITIES)],
    [a, 'is a', p.pick(JOBS)],
  ];
  const told = p.distinct(facts, p.int(2, 4));
  const stated = told.map(([who, rel, what]) => `${who} ${rel} ${what}.`);
  const [who, rel, what] = p.pick(told);
  const question = rel === 'lives in' ? `Where does ${who} live?` : rel === 'works at' ? `Where does ${who} work?` : `What is ${who}'s job?`;
  const recall = p.pick([
    `So ${who} ${rel} ${what}.`,
    `Remember that ${who} ${rel} ${what}.`,
    `As we said, ${who} ${rel} ${what}.`,
    `${question} ${who} ${rel} ${what}.`,
    `${question} The answer is ${what}.`,
  ]);
  return `${stated.join(' ')} ${recall}`;
}

/** A short word list, then its first word, last word or the list backwards. */
function wordList(p: SeededPicker): string {
  const words = p.distinct([...NOUNS, ...ANIMALS, ...COLORS], p.pick([2, 3, 3, 3, 4]));
  const list = words.join(' ');
  const backwards = [...words].reverse().join(' ');
  return p.pick([
    `The first word of ${list} is ${words[0]}.`,
    `The last word of ${list} is ${words.at(-1)}.`,
    `Backwards, ${list} reads ${backwards}.`,
    `Say ${list} in reverse order: ${backwards}.`,
    `The words were ${list}, and the first was ${words[0]}.`,
    `The words were ${list}, and the last was ${words.at(-1)}.`,
    `In ${list} the first word is ${words[0]}, the last word is ${words.at(-1)}, and backwards it reads ${backwards}.`,
    `What is the first word of ${list}? It is ${words[0]}.`,
    `What is the last word of ${list}? It is ${words.at(-1)}.`,
    `Read ${list} backwards and you get ${backwards}.`,
  ]);
}

/**
 * A run of random words said twice: the densest copying signal, from which a small model learns to
 * look back and copy (an induction head). The words are random, so only copying predicts the repeat.
 */
function repeated(p: SeededPicker): string {
  const pool = [...NOUNS, ...ANIMALS, ...COLORS, ...FIRST_NAMES, ...CITIES, ...ORGS, ...JOBS];
  const words = Array.from({ length: p.int(4, 10) }, () => p.pick(pool)).join(' ');
  return p.pick([`Say it twice: ${words}, ${words}.`, `They kept repeating ${words}, ${words}.`, `The note said ${words}, and I copied ${words}.`, `First ${words}; again, ${words}.`]);
}

/** Sums and differences of small numbers, in words and in symbols. */
function numbers(p: SeededPicker): string {
  const a = p.int(0, 20);
  const plus = p.chance(0.5);
  const b = plus ? p.int(0, 20) : p.int(0, a);
  const c = plus ? a + b : a - b;
  return plus
    ? p.pick([`${a} plus ${b} is ${c}.`, `${a} + ${b} = ${c}.`, `Adding ${b} to ${a} gives ${c}.`, `${a} + ${b} is ${c}.`])
    : p.pick([`${a} minus ${b} is ${c}.`, `${a} - ${b} = ${c}.`, `If you take ${b} from ${a}, you get ${c}.`, `${a} - ${b} is ${c}.`]);
}

/** Every sum a + b (a, b <= 20) and difference a - b (b <= a <= 20) as [a, op, b, result]: the 672 facts of the arithmetic task. */
function allArithmeticFacts(): Array<[number, '+' | '-', number, number]> {
  const out: Array<[number, '+' | '-', number, number]> = [];
  for (let a = 0; a <= 20; a++) for (let b = 0; b <= 20; b++) {
    out.push([a, '+', b, a + b]);
    if (b <= a) out.push([a, '-', b, a - b]);
  }
  return out;
}

/** One arithmetic fact in one of several prose phrasings (the symbols and the words, either order of operands for sums). */
function statedFact(p: SeededPicker, [a, op, b, c]: [number, '+' | '-', number, number]): string {
  return op === '+'
    ? p.pick([`${a} plus ${b} is ${c}.`, `${a} + ${b} = ${c}.`, `${a} + ${b} is ${c}.`, `Adding ${b} to ${a} gives ${c}.`, `The sum of ${a} and ${b} is ${c}.`, `${a} and ${b} make ${c}.`])
    : p.pick([`${a} minus ${b} is ${c}.`, `${a} - ${b} = ${c}.`, `${a} - ${b} is ${c}.`, `If you take ${b} from ${a}, you get ${c}.`, `The difference of ${a} and ${b} is ${c}.`, `${b} less than ${a} is ${c}.`]);
}

/**
 * \`count\` paragraphs of arithmetic facts only, every fact of the task once per pass over a fresh
 * shuffle, each in a random phrasing: the drill that \`pretrain --arith-mix\` mixes into each batch.
 * The tokenizer spells every number up to 40 as one token, so each sum is a fact to memorise, not
 * digits to carry; the mixed corpus states each fact only ~15 times in stage 1 (too few: the base
 * answered 15% of "a plus b is" correctly), so a continuation sees them densely.
 */
export function arithmeticDrill(seed: number, count: number): string[] {
  const p = new SeededPicker(seed);
  const facts = allArithmeticFacts();
  let queue: typeof facts = [];
  const next = (): [number, '+' | '-', number, number] => {
    if (queue.length === 0) queue = facts.map((f) => [p.random.next(), f] as const).sort((x, y) => x[0] - y[0]).map(([, f]) => f);
    return queue.pop()!;
  };
  return Array.from({ length: count }, () => Array.from({ length: p.int(4, 8) }, () => statedFact(p, next())).join(' '));
}

/** \`count\` paragraphs of sentences with names, each followed by its names with their kinds (the NER skill in prose), for \`pretrain --names-mix\`. */
export function namesDrill(seed: number, count: number): string[] {
  const p = new SeededPicker(seed);
  return Array.from({ length: count }, () => Array.from({ length: p.int(2, 4) }, () => (p.chance(0.8) ? namesInSentence(p) : nameKinds(p))).join(' '));
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

type Named = [text: string, kind: 'a person' | 'an organisation' | 'a location' | 'an event'];

// Sentence frames for the names passage; deliberately not the instruction set's NER sentences, so
// the base model learns to pick names out of a sentence, not those sentences.
const NAME_FRAMES: Array<(p: SeededPicker) => Array<string | Named>> = [
  (p) => [[`${p.pick(FIRST_NAMES)} ${p.pick(LAST_NAMES)}`, 'a person'], 'visited', [p.pick(CITIES), 'a location']],
  (p) => [[p.pick(FIRST_NAMES), 'a person'], 'joined', [p.pick(ORGS), 'an organisation'], 'before the', [p.pick(MISC), 'an event']],
  (p) => [[p.pick(ORGS), 'an organisation'], 'sold a factory in', [p.pick(CITIES), 'a location'], 'to', [p.pick(ORGS), 'an organisation']],
  (p) => [[p.pick(FIRST_NAMES), 'a person'], 'met', [`${p.pick(FIRST_NAMES)} ${p.pick(LAST_NAMES)}`, 'a person'], 'in', [p.pick(CITIES), 'a location']],
  (p) => ['During the', [p.pick(MISC), 'an event'], ',', [p.pick(FIRST_NAMES), 'a person'], 'stayed in', [p.pick(CITIES), 'a location']],
  (p) => [[`${p.pick(FIRST_NAMES)} ${p.pick(LAST_NAMES)}`, 'a person'], 'left', [p.pick(ORGS), 'an organisation']],
  (p) => [[p.pick(ORGS), 'an organisation'], 'moved to', [p.pick(CITIES), 'a location'], 'after the', [p.pick(MISC), 'an event']],
];

/** A sentence with names, then its names again in order with the kind of each (the skill of NER tagging, in prose). */
function namesInSentence(p: SeededPicker): string {
  const parts = p.pick(NAME_FRAMES)(p);
  const sentence = parts.map((x) => (typeof x === 'string' ? x : x[0])).join(' ').replace(' ,', ',');
  const names = parts.filter((x): x is Named => typeof x !== 'string');
  const listed = names.map(([t, k]) => `${t}, ${k}`);
  const restated = names.map(([t, k]) => `${t} is ${k}`);
  return p.pick([
    `${sentence}. The names in it are ${listed.join('; ')}.`,
    `${sentence}. In that sentence ${restated.join(', ')}.`,
    `${sentence}. Its names, in order: ${names.map(([t]) => t).join(', ')}.`,
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
  [4, peopleFacts],
  [4, wordList],
  [8, repeated],
  [3, numbers],
  [1, review],
  [3, namesInSentence],
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

/**
 * `count` paragraphs of runs of random words said twice and nothing else: the copy warm-up of
 * `pretrain`. On the mixed corpus alone a 3-layer model had formed no induction head after 500
 * steps (it answered every repeat with a frequent word), while on text where only copying lowers
 * the loss a small Llama forms one within ~150 steps; the mixed corpus then keeps it in use.
 */
export function copyRuns(seed: number, count: number): string[] {
  const p = new SeededPicker(seed);
  return Array.from({ length: count }, () => Array.from({ length: p.int(2, 4) }, () => repeated(p)).join(' '));
}
