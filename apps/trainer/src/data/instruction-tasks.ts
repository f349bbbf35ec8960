import { SeededPicker } from './seeded-picker.js';
import { ANIMALS, CITIES, COLORS, FIRST_NAMES, JOBS, LAST_NAMES, MISC, NEGATIVE, NOUNS, ORGS, POSITIVE, THINGS } from './word-lists.js';

/** The task families of the built-in instruction data set. */
export const TASK_FAMILIES = ['ner', 'sentiment', 'arithmetic', 'string', 'facts'] as const;
export type TaskFamily = (typeof TASK_FAMILIES)[number];

/** One example in the messages format, with its family (and, for NER, the gold words and BIO tags). */
export interface InstructionExample {
  family: TaskFamily;
  messages: Array<{ role: 'user' | 'assistant'; content: string }>;
  words?: string[];
  tags?: string[];
}

type Entity = [text: string, type: 'PER' | 'ORG' | 'LOC' | 'MISC'];

// Sentences as alternating literal text and entities; the answer lists entities in order as "text (TYPE)".
const NER_TEMPLATES: Array<(p: SeededPicker) => Array<string | Entity>> = [
  (p) => [[`${p.pick(FIRST_NAMES)} ${p.pick(LAST_NAMES)}`, 'PER'], 'works at', [p.pick(ORGS), 'ORG'], 'in', [p.pick(CITIES), 'LOC']],
  (p) => [[p.pick(FIRST_NAMES), 'PER'], 'moved to', [p.pick(CITIES), 'LOC'], 'after the', [p.pick(MISC), 'MISC']],
  (p) => [[p.pick(ORGS), 'ORG'], 'opened a new office in', [p.pick(CITIES), 'LOC']],
  (p) => [[p.pick(FIRST_NAMES), 'PER'], 'wrote to', [p.pick(FIRST_NAMES), 'PER'], 'about the', [p.pick(MISC), 'MISC']],
  (p) => ['The', [p.pick(MISC), 'MISC'], 'was held in', [p.pick(CITIES), 'LOC']],
  (p) => [[p.pick(ORGS), 'ORG'], 'hired', [`${p.pick(FIRST_NAMES)} ${p.pick(LAST_NAMES)}`, 'PER']],
];

function ner(p: SeededPicker): InstructionExample {
  const parts = p.pick(NER_TEMPLATES)(p);
  const words: string[] = [];
  const tags: string[] = [];
  const answer: string[] = [];
  for (const part of parts) {
    if (typeof part === 'string') {
      for (const w of part.split(' ')) (words.push(w), tags.push('O'));
    } else {
      part[0].split(' ').forEach((w, i) => (words.push(w), tags.push(`${i === 0 ? 'B' : 'I'}-${part[1]}`)));
      answer.push(`${part[0]} (${part[1]})`);
    }
  }
  return { family: 'ner', words, tags, messages: [{ role: 'user', content: `Tag the entities: ${words.join(' ')}.` }, { role: 'assistant', content: answer.join(', ') }] };
}

function sentiment(p: SeededPicker): InstructionExample {
  const positive = p.chance(0.5);
  const word = p.pick(positive ? POSITIVE : NEGATIVE);
  const text = p.pick([`The ${p.pick(THINGS)} was ${word}.`, `What a ${word} ${p.pick(THINGS)}!`, `I found the ${p.pick(THINGS)} in ${p.pick(CITIES)} ${word}.`]);
  return { family: 'sentiment', messages: [{ role: 'user', content: `Sentiment of: ${text}` }, { role: 'assistant', content: positive ? 'positive' : 'negative' }] };
}

function arithmetic(p: SeededPicker): InstructionExample {
  const plus = p.chance(0.5);
  const a = p.int(0, 20);
  const b = plus ? p.int(0, 20) : p.int(0, a);
  return { family: 'arithmetic', messages: [{ role: 'user', content: `What is ${a} ${plus ? '+' : '-'} ${b}?` }, { role: 'assistant', content: String(plus ? a + b : a - b) }] };
}

function stringTask(p: SeededPicker): InstructionExample {
  const words = p.distinct([...NOUNS, ...ANIMALS, ...COLORS], 3);
  const kind = p.int(0, 2);
  const list = words.join(' ');
  const [q, a] = kind === 0 ? [`First word of: ${list}`, words[0]!] : kind === 1 ? [`Last word of: ${list}`, words[2]!] : [`Reverse the words: ${list}`, [...words].reverse().join(' ')];
  return { family: 'string', messages: [{ role: 'user', content: q }, { role: 'assistant', content: a }] };
}

function facts(p: SeededPicker): InstructionExample {
  const [x, y] = p.distinct(FIRST_NAMES, 2) as [string, string];
  const city = p.pick(CITIES);
  const job = p.pick(JOBS);
  const org = p.pick(ORGS);
  const stated = [`${x} lives in ${city}.`, `${y} is a ${job}.`, `${x} works at ${org}.`];
  const kind = p.int(0, 2);
  const [q, a] = kind === 0 ? [`Where does ${x} live?`, city] : kind === 1 ? [`What is ${y}'s job?`, job] : [`Where does ${x} work?`, org];
  return { family: 'facts', messages: [{ role: 'user', content: `${stated.join(' ')} ${q}` }, { role: 'assistant', content: a }] };
}

const MAKERS: Record<TaskFamily, (p: SeededPicker) => InstructionExample> = { ner, sentiment, arithmetic, string: stringTask, facts };

/** Seed offset of the held-out stream: the test split is drawn from its own seed, not from the training stream. */
const TEST_SEED_OFFSET = 0x7e57;
/** Seed offset of the validation stream (for choosing a base, steps and recipe knobs without looking at the test split). */
const VALIDATION_SEED_OFFSET = 0x5a11d;

/** The built-in data set's three splits. */
export interface InstructionSplits {
  train: InstructionExample[];
  /** For every choice (base model, steps, recipe knobs); empty unless asked for. */
  validation: InstructionExample[];
  /** Reported only for the final choice. */
  test: InstructionExample[];
}

/**
 * The built-in data set: `trainPerFamily`, `testPerFamily` and `validationPerFamily` examples of
 * each family. Test and validation are drawn from seeds of their own, and no prompt occurs in two
 * splits: test is drawn first, then validation, then train (so the test split is the same whatever
 * the other sizes, and without a validation split train is what it was before there was one).
 */
export function instructionTasks(seed: number, trainPerFamily: number, testPerFamily: number, validationPerFamily = 0): InstructionSplits {
  const p = new SeededPicker(seed);
  const q = new SeededPicker(seed + TEST_SEED_OFFSET);
  const v = new SeededPicker(seed + VALIDATION_SEED_OFFSET);
  const train: InstructionExample[] = [];
  const validation: InstructionExample[] = [];
  const test: InstructionExample[] = [];
  for (const family of TASK_FAMILIES) {
    const seen = new Set<string>();
    const fill = (from: SeededPicker, into: InstructionExample[], n: number): void => {
      // Arithmetic has few distinct prompts; give up on uniqueness after many tries rather than loop forever.
      for (let tries = 0, got = 0; got < n && tries < n * 50; tries++) {
        const ex = MAKERS[family](from);
        const key = ex.messages[0]!.content;
        if (seen.has(key)) continue;
        seen.add(key);
        into.push(ex);
        got++;
      }
    };
    fill(q, test, testPerFamily);
    fill(v, validation, validationPerFamily);
    fill(p, train, trainPerFamily);
  }
  // Interleave families so every batch mixes them.
  const shuffled = train.map((e) => [p.random.next(), e] as const).sort((a, b) => a[0] - b[0]).map(([, e]) => e);
  return { train: shuffled, validation, test };
}
