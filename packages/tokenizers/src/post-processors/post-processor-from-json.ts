import { BertProcessing, RobertaProcessing } from './bert.js';
import { ByteLevelPostProcessor } from './byte-level.js';
import type { PostProcessor } from './post-processor.js';
import { SequenceProcessor } from './sequence.js';
import { TemplateProcessing } from './template.js';

const SUPPORTED = ['TemplateProcessing', 'BertProcessing', 'RobertaProcessing', 'ByteLevel', 'Sequence'];

function tokenPair(v: unknown, where: string): [string, number] {
  if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'number') return [v[0], v[1]];
  throw new Error(`${where}: expected [token, id], got ${JSON.stringify(v)}`);
}

/** Builds a post-processor from its tokenizer.json object (null means none). */
export function postProcessorFromJSON(json: unknown, where = 'post_processor'): PostProcessor | null {
  if (json === null || json === undefined) return null;
  const j = json as Record<string, unknown>;
  if (typeof j !== 'object' || typeof j.type !== 'string') throw new Error(`${where}: expected an object with a string "type", got ${JSON.stringify(json)?.slice(0, 200)}`);
  switch (j.type) {
    case 'TemplateProcessing':
      return new TemplateProcessing(j, where);
    case 'BertProcessing':
      return new BertProcessing(tokenPair(j.sep, `${where}.sep`), tokenPair(j.cls, `${where}.cls`), j);
    case 'RobertaProcessing':
      return new RobertaProcessing(tokenPair(j.sep, `${where}.sep`), tokenPair(j.cls, `${where}.cls`), j.trim_offsets !== false, j.add_prefix_space !== false, j);
    case 'ByteLevel':
      return new ByteLevelPostProcessor(j.add_prefix_space !== false, j.trim_offsets !== false, j);
    case 'Sequence':
      if (!Array.isArray(j.processors)) throw new Error(`${where}.processors: expected an array of post-processors, got ${JSON.stringify(j.processors)}`);
      return new SequenceProcessor(j.processors.map((p, i) => postProcessorFromJSON(p, `${where}.processors[${i}]`)).filter((p): p is PostProcessor => p !== null));
    default:
      throw new Error(`${where}.type: unknown post-processor ${JSON.stringify(j.type)}; supported: ${SUPPORTED.join(', ')}`);
  }
}
