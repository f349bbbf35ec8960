import { describe, expect, it } from 'vitest';
import { instructionTasks, TASK_FAMILIES } from '../src/data/instruction-tasks.js';
import { nerTagsFromAnswer } from '../src/ner-tags.js';

describe('instructionTasks', () => {
  it('is fixed by its seed, covers every family, and keeps test prompts out of train', () => {
    const a = instructionTasks(7, 50, 10);
    expect(instructionTasks(7, 50, 10)).toEqual(a);
    expect(a.test).toHaveLength(50);
    for (const f of TASK_FAMILIES) expect(a.test.filter((e) => e.family === f)).toHaveLength(10);
    const testPrompts = new Set(a.test.map((e) => e.messages[0]!.content));
    expect(a.train.some((e) => testPrompts.has(e.messages[0]!.content))).toBe(false);
    for (const e of [...a.train, ...a.test]) expect(e.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('draws the test split from its own seed: the same test split whatever the training size', () => {
    const small = instructionTasks(3, 10, 8);
    const large = instructionTasks(3, 200, 8);
    expect(large.test).toEqual(small.test);
    expect(instructionTasks(4, 10, 8).test).not.toEqual(small.test);
  });

  it('draws a validation split from a third seed, disjoint from train and test, without changing the test split', () => {
    const withVal = instructionTasks(5, 60, 8, 6);
    const without = instructionTasks(5, 60, 8);
    expect(without.validation).toEqual([]);
    expect(withVal.test).toEqual(without.test);
    for (const f of TASK_FAMILIES) expect(withVal.validation.filter((e) => e.family === f)).toHaveLength(6);
    const prompts = (xs: typeof withVal.train): Set<string> => new Set(xs.map((e) => e.messages[0]!.content));
    const [train, val, test] = [prompts(withVal.train), prompts(withVal.validation), prompts(withVal.test)];
    for (const p of val) expect(train.has(p) || test.has(p)).toBe(false);
    expect(instructionTasks(5, 60, 8, 6)).toEqual(withVal);
  });

  it('NER answers map back to the gold BIO tags', () => {
    for (const e of instructionTasks(1, 0, 30).test.filter((x) => x.family === 'ner')) {
      expect(nerTagsFromAnswer(e.words!, e.messages[1]!.content)).toEqual(e.tags);
    }
    expect(nerTagsFromAnswer(['Alice', 'works'], 'garbage')).toEqual(['O', 'O']);
  });
});
