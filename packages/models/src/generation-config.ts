import { ConfigFields, parseConfigJSON, type ConfigJSON } from './config-fields.js';
import type { GenerateOptions } from './generate.js';

/** The options of generation_config.json that `generate` understands, under its option names. */
export type GenerationDefaults = Pick<GenerateOptions, 'eosTokenId' | 'padTokenId' | 'doSample' | 'temperature' | 'topK' | 'topP' | 'repetitionPenalty' | 'maxNewTokens'>;

/**
 * Reads a Hugging Face generation_config.json (text or object) into `generate` options: the EOS ids
 * an instruct model really stops on (often more than config.json lists) and its sampling defaults.
 * Spread it under your own options: `generate(model, ids, { ...defaults, maxNewTokens: 64 })`.
 */
export function parseGenerationConfig(source: string | ConfigJSON): GenerationDefaults {
  const f = new ConfigFields(parseConfigJSON(source, 'generation_config.json'), 'generation_config.json');
  const out: GenerationDefaults = {};
  const eos = f.tokenIds('eos_token_id');
  if (eos.length) out.eosTokenId = eos;
  const pad = f.tokenIds('pad_token_id');
  if (pad.length) out.padTokenId = pad[0]!;
  if (f.has('do_sample')) out.doSample = f.boolean('do_sample', false);
  if (f.has('temperature')) out.temperature = f.number('temperature');
  if (f.has('top_k')) out.topK = f.number('top_k');
  if (f.has('top_p')) out.topP = f.number('top_p');
  if (f.has('repetition_penalty')) out.repetitionPenalty = f.number('repetition_penalty');
  if (f.has('max_new_tokens')) out.maxNewTokens = f.positiveInt('max_new_tokens');
  return out;
}
