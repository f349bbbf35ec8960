// The naming rules shared by PeftModel (which parameters train) and the adapter files (which are
// saved, under which PEFT key): one rule for adapter tensors, one for modules_to_save.

/** The PEFT tensor kinds a LoRA layer holds per adapter. */
export type AdapterTensorKind = 'lora_A' | 'lora_B' | 'lora_magnitude_vector' | 'lora_embedding_A' | 'lora_embedding_B';

/** An adapter tensor's parameter path taken apart: `<owner>.<kind>.<adapter>[.weight]`. */
export interface AdapterParamPath {
  owner: string;
  kind: AdapterTensorKind;
  adapter: string;
}

// Linear adapters are modules (`q_proj.lora_A.<adapter>.weight`), embedding adapters parameters
// (`embed_tokens.lora_embedding_A.<adapter>`), as in PEFT's ModuleDict / ParameterDict.
const ADAPTER_PARAM = /^(.+)\.(?:(lora_A|lora_B|lora_magnitude_vector)\.([^.]+)\.weight|(lora_embedding_A|lora_embedding_B)\.([^.]+))$/;

/** The owner, kind and adapter of an adapter tensor's path, or null for any other parameter. */
export function adapterParamOf(path: string): AdapterParamPath | null {
  const m = ADAPTER_PARAM.exec(path);
  if (!m) return null;
  return m[2] ? { owner: m[1]!, kind: m[2] as AdapterTensorKind, adapter: m[3]! } : { owner: m[1]!, kind: m[4] as AdapterTensorKind, adapter: m[5]! };
}

/**
 * Whether a module or parameter path lies in a module named in modules_to_save: PEFT's rule
 * `(^|.*\.)name($|\..*)`, the name taken literally (it may span segments, as `model.norm`).
 */
export function inSavedModule(path: string, name: string): boolean {
  return `.${path}.`.includes(`.${name}.`);
}

/** Adapter names become path segments (`lora_A.<name>.weight`), so they hold no dot and are not empty. */
export function checkAdapterName(name: string): void {
  if (name === '' || name.includes('.')) throw new Error(`PeftModel: adapter name ${JSON.stringify(name)} must be non-empty and hold no "." (it becomes a parameter path segment)`);
}
