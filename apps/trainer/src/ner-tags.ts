/**
 * BIO tags for a sentence's words from an answer such as "Alice Smith (PER), Paris (LOC)": each
 * listed entity is matched to the first untagged run of its words; anything unparseable tags
 * nothing, so a wrong answer scores as missed entities rather than crashing the evaluation.
 */
export function nerTagsFromAnswer(words: readonly string[], answer: string): string[] {
  const tags = words.map(() => 'O');
  for (const m of answer.matchAll(/([^,()]+?)\s*\((PER|ORG|LOC|MISC)\)/g)) {
    const parts = m[1]!.trim().split(/\s+/);
    for (let s = 0; s + parts.length <= words.length; s++) {
      if (parts.every((p, k) => words[s + k] === p && tags[s + k] === 'O')) {
        parts.forEach((_, k) => (tags[s + k] = `${k === 0 ? 'B' : 'I'}-${m[2]}`));
        break;
      }
    }
  }
  return tags;
}
