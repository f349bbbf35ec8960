import type { Module } from '@tessera/nn';
import { cast, isTensor, type DType } from '@tessera/tensor';
import { BertForSequenceClassification, BertForTokenClassification, BertModel } from './bert.js';
import { parseBertConfig, type BertConfig } from './bert-config.js';
import { GPT2LMHeadModel } from './gpt2.js';
import { parseGPT2Config, type GPT2Config } from './gpt2-config.js';
import { loadTarget } from './load-model.js';
import { tensorFromRaw } from './load-weights.js';
import { readModelFolder, type ModelFiles } from './model-folder.js';

/** A GPT-2 or BERT model read from a Hugging Face folder, with its parsed config. */
export type LoadedGPT2OrBert =
  | { kind: 'gpt2'; model: GPT2LMHeadModel; config: GPT2Config }
  | { kind: 'bert'; model: BertModel | BertForSequenceClassification | BertForTokenClassification; config: BertConfig };

/** Assigns every weight of `files` to the parameter of the same HF name, or throws naming what is missing, extra or misshapen. */
export async function assignWeights(model: Module, files: ModelFiles, where: string): Promise<void> {
  const expected = model.stateDict();
  // GPT-2 checkpoints may store the tied lm_head and the causal-mask buffers (attn.bias, attn.masked_bias).
  const ignored = /^lm_head\.weight$|\.attn\.(masked_)?bias$|position_ids$/;
  const unexpected = [...files.weights.keys()].filter((k) => !expected.has(k) && !ignored.test(k));
  const missing = [...expected.keys()].filter((k) => !files.weights.has(k));
  const bad = [...expected].filter(([k, t]) => files.weights.has(k) && files.weights.get(k)!.shape.join(',') !== t.shape.join(',')).map(([k]) => k);
  if (missing.length || unexpected.length || bad.length) {
    throw new Error(
      `${where}: the weights do not fit config.json; missing [${missing.slice(0, 5).join(', ')}], unexpected [${unexpected.slice(0, 5).join(', ')}], wrong shape [${bad.slice(0, 5).join(', ')}]. ` +
        'Check that config.json and model.safetensors come from the same checkpoint (and that architectures names the right head)',
    );
  }
  for (const [name, target] of expected) {
    const value = await files.weights.get(name)!.read();
    let loaded = isTensor(value) ? value : tensorFromRaw(name, value, { dtype: target.dtype, device: target.device });
    if (loaded.device !== target.device) loaded = await loaded.to(target.device); // tensors the caller made elsewhere
    const same = loaded.dtype === target.dtype ? loaded : cast(loaded, target.dtype);
    target.assign(same);
    if (same !== value) same.dispose();
    if (loaded !== value && loaded !== same) loaded.dispose();
  }
}

/** Loads a GPT-2 (GPT2LMHeadModel) or BERT folder (head chosen from config.json `architectures`). */
export async function loadGPT2OrBert(dir: string, opts: { dtype?: DType; backend?: string; device?: string } = {}): Promise<LoadedGPT2OrBert> {
  const device = loadTarget(opts, 'loadGPT2OrBert');
  const files = await readModelFolder(dir);
  const o = { dtype: opts.dtype, device, init: false };
  try {
    if (files.config.model_type === 'gpt2') {
      const config = parseGPT2Config(files.config);
      const model = new GPT2LMHeadModel(config, o);
      await assignWeights(model, files, `loadGPT2OrBert(${dir})`);
      return { kind: 'gpt2', model, config };
    }
    if (files.config.model_type === 'bert') {
      const config = parseBertConfig(files.config);
      const arch = Array.isArray(files.config.architectures) ? String(files.config.architectures[0]) : 'BertModel';
      const model =
        arch === 'BertForSequenceClassification'
          ? new BertForSequenceClassification(config, o)
          : arch === 'BertForTokenClassification'
            ? new BertForTokenClassification(config, o)
            : new BertModel(config, o);
      await assignWeights(model, files, `loadGPT2OrBert(${dir})`);
      return { kind: 'bert', model, config };
    }
    throw new Error(`loadGPT2OrBert: ${dir}/config.json model_type ${JSON.stringify(files.config.model_type)} is neither "gpt2" nor "bert"; use loadModel for the Llama family`);
  } finally {
    await files.close();
  }
}
