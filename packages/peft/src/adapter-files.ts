// PEFT's on-disk adapter format: adapter_config.json plus adapter_model.safetensors whose keys are
// `base_model.model.<module path>.lora_A.weight` etc. with the adapter name removed, as PEFT's
// get_peft_model_state_dict writes them; loading puts the name back.
import { readSafetensors, serializeSafetensors, type Dtype as SafetensorsDType, type SafetensorsTensor } from '@tessera/safetensors';
import { bf16ToF32, f16ToF32, tensor, type DType, type Tensor } from '@tessera/tensor';
import { adapterParamOf, inSavedModule } from './adapter-names.js';
import { configDifference, fromPeftJson, toPeftJson, type LoraConfig } from './lora-config.js';
import type { PeftModel } from './peft-model.js';

const PREFIX = 'base_model.model.';

const TO_ST: Partial<Record<DType, SafetensorsDType>> = { f32: 'F32', f64: 'F64', f16: 'F16', bf16: 'BF16' };
const FROM_ST: Partial<Record<SafetensorsDType, DType>> = { F32: 'f32', F64: 'f64', F16: 'f16', BF16: 'bf16' };

/**
 * PEFT's key for a Tessera parameter path of adapter `name`, or null when the parameter is not saved
 * with it. `loraLayerPaths` are the model's LoRA layers: PEFT (>= 0.7) keeps a wrapped layer's own
 * tensors under `<layer>.base_layer.`, so its bias is saved as `<layer>.base_layer.bias`.
 */
export function peftKey(path: string, name: string, cfg: LoraConfig, loraLayerPaths: ReadonlySet<string>): string | null {
  const adapter = adapterParamOf(path);
  if (adapter) {
    if (adapter.adapter !== name) return null; // another adapter's
    // Linear adapters are modules (`lora_A.weight`); PEFT saves the DoRA magnitude and embedding adapters bare.
    return `${PREFIX}${adapter.owner}.${adapter.kind === 'lora_A' || adapter.kind === 'lora_B' ? `${adapter.kind}.weight` : adapter.kind}`;
  }
  if (cfg.modulesToSave.some((m) => inSavedModule(path, m))) return PREFIX + path;
  if (path.endsWith('.bias')) {
    const owner = path.slice(0, -'.bias'.length);
    const wrapped = loraLayerPaths.has(owner);
    // bias 'all' saves every bias (PEFT: every key holding "bias"); 'lora_only' the biases of LoRA layers.
    if (cfg.bias === 'all' || (cfg.bias === 'lora_only' && wrapped)) return PREFIX + (wrapped ? `${owner}.base_layer.bias` : path);
  }
  return null;
}

/** The key PEFT before 0.7 used for a LoRA layer's bias (`<layer>.bias`), accepted on load as well. */
function legacyBiasKey(key: string): string | null {
  return key.endsWith('.base_layer.bias') ? `${key.slice(0, -'.base_layer.bias'.length)}.bias` : null;
}

/** The two files PEFT's `save_pretrained` writes for one adapter, in memory. */
export async function adapterFiles(peft: PeftModel, name = peft.activeAdapter): Promise<{ config: string; weights: Uint8Array }> {
  const cfg = peft.configs.get(name);
  if (!cfg) throw new Error(`adapterFiles: no adapter named "${name}" (adapters: ${[...peft.configs.keys()].join(', ')})`);
  const layers = new Set(peft.loraLayers().map(([p]) => p));
  const saved = peft.savedValues(name);
  const entries = new Map<string, { dtype: SafetensorsDType; shape: number[]; data: Uint8Array }>();
  for (const [path, param] of peft.model.namedParameters()) {
    const key = peftKey(path, name, cfg, layers);
    if (!key) continue;
    const t = saved.get(path) ?? param; // a modules_to_save tensor: this adapter's values, wherever they are kept
    const dtype = TO_ST[t.dtype];
    if (!dtype) throw new Error(`adapterFiles: parameter "${path}" has dtype ${t.dtype}; adapters are saved as floating point`);
    const c = t.contiguous();
    // 16-bit floats are read as their raw bits (data() would widen them to f32).
    const raw = c.dtype === 'f16' || c.dtype === 'bf16' ? ((await c.storage.backend.read(c.storage)) as Uint16Array).slice(c.offset, c.offset + c.size) : await c.data();
    if (c !== t) c.dispose();
    entries.set(key, { dtype, shape: [...t.shape], data: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) });
  }
  if (entries.size === 0) throw new Error(`adapterFiles: adapter "${name}" has no parameters to save`);
  return { config: JSON.stringify(toPeftJson(cfg), null, 2) + '\n', weights: serializeSafetensors(entries, { format: 'pt' }) };
}

/** Parses adapter_config.json text, naming the file when it is not a JSON object. */
export function parseAdapterConfig(text: string, file = 'adapter_config.json'): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); a PEFT adapter_config.json holds one object`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${file} must hold a JSON object (got ${Array.isArray(json) ? 'an array' : JSON.stringify(json)})`);
  return json as Record<string, unknown>;
}

/**
 * Loads a PEFT adapter (its adapter_config.json text and adapter_model.safetensors bytes) into the
 * model under `name`. A new name adds the adapter from the config; an existing one must have the
 * same config (PEFT would keep its own and ignore the file's, so alpha or patterns could silently
 * differ). Every key, shape and dtype is checked before any tensor changes, and a failed load
 * leaves the model as it was (an adapter it added is deleted again).
 */
export function loadAdapterFiles(peft: PeftModel, files: { config: string | Record<string, unknown>; weights: Uint8Array | ArrayBuffer }, name = 'default'): void {
  const cfg = fromPeftJson(typeof files.config === 'string' ? parseAdapterConfig(files.config) : files.config);
  const st = readSafetensors(files.weights);
  const existing = peft.configs.get(name);
  if (existing) {
    const diff = configDifference(existing, cfg);
    if (diff) {
      throw new Error(`loadAdapter: adapter "${name}" exists with ${diff.field} ${diff.a}, but adapter_config.json has ${diff.field} ${diff.b}; load it under another name or delete "${name}" first (peft.deleteAdapter("${name}"))`);
    }
  } else peft.addAdapter(name, cfg);
  try {
    fill(peft, name, existing ?? cfg, st.tensors);
  } catch (err) {
    if (!existing) peft.deleteAdapter(name);
    throw err;
  }
}

/** Checks every tensor of the file against the adapter's parameters, then assigns them all. */
function fill(peft: PeftModel, name: string, cfg: LoraConfig, tensors: ReadonlyMap<string, SafetensorsTensor>): void {
  const layers = new Set(peft.loraLayers().map(([p]) => p));
  // modules_to_save tensors are filled where this adapter keeps its values, not over the ones the active adapter runs with.
  const saved = peft.savedValues(name);
  const byKey = new Map<string, [string, Tensor]>();
  for (const [path, t] of peft.model.namedParameters()) {
    const key = peftKey(path, name, cfg, layers);
    if (key) byKey.set(key, [path, saved.get(path) ?? t]);
  }
  // The file's key for each parameter key: PEFT's, or the pre-0.7 name of a LoRA layer's bias.
  const fileKey = new Map<string, string>();
  for (const key of byKey.keys()) {
    const legacy = legacyBiasKey(key);
    if (tensors.has(key) && legacy && tensors.has(legacy)) throw new Error(`loadAdapter: adapter_model.safetensors holds both ${key} and ${legacy}, two names of one bias; keep one`);
    if (tensors.has(key)) fileKey.set(key, key);
    else if (legacy && tensors.has(legacy)) fileKey.set(key, legacy);
  }
  const used = new Set(fileKey.values());
  const unexpected = [...tensors.keys()].filter((k) => !used.has(k));
  if (unexpected.length) {
    throw new Error(`loadAdapter: ${unexpected.length} tensors in adapter_model.safetensors fit no parameter of the model (e.g. ${unexpected.slice(0, 3).join(', ')}); is it an adapter for another model?`);
  }
  // PEFT's own lora_only files hold no biases (its rule looks for `<layer>.bias`, which moved under
  // base_layer in 0.7): a LoRA layer's bias missing from the file keeps the base model's value.
  const missing = [...byKey.keys()].filter((k) => !fileKey.has(k) && !(cfg.bias === 'lora_only' && k.endsWith('.base_layer.bias')));
  if (missing.length) throw new Error(`loadAdapter: adapter_model.safetensors lacks ${missing.length} tensors (e.g. ${missing.slice(0, 3).join(', ')})`);
  const plan: [Tensor, SafetensorsTensor, DType][] = [];
  for (const [key, file] of fileKey) {
    const [path, target] = byKey.get(key)!;
    const loaded = tensors.get(file)!;
    const dtype = FROM_ST[loaded.dtype];
    if (!dtype) throw new Error(`loadAdapter: "${file}" has dtype ${loaded.dtype}; expected a floating-point dtype`);
    if (loaded.shape.length !== target.rank || loaded.shape.some((d, i) => d !== target.shape[i])) {
      throw new Error(`loadAdapter: "${file}" has shape [${loaded.shape.join(',')}] but ${path} is [${target.shape.join(',')}] (rank or target modules differ?)`);
    }
    plan.push([target, loaded, dtype]);
  }
  for (const [target, loaded, dtype] of plan) {
    const src = tensor(typedOf(loaded.dtype, loaded.data), { shape: loaded.shape, dtype: dtype === 'f16' || dtype === 'bf16' ? 'f32' : dtype, device: target.device });
    const value = src.dtype === target.dtype ? src : src.cast(target.dtype);
    target.assign(value);
    if (value !== src) value.dispose();
    src.dispose();
  }
}

function typedOf(dtype: SafetensorsDType, bytes: Uint8Array): Float32Array | Float64Array {
  const copy = new Uint8Array(bytes); // a real copy: Buffer.slice would only view Node's shared pool
  if (dtype === 'F64') return new Float64Array(copy.buffer);
  if (dtype === 'F32') return new Float32Array(copy.buffer);
  // 16-bit floats widen to f32 here; the target's dtype decides the final storage.
  const half = new Uint16Array(copy.buffer);
  return Float32Array.from(half, dtype === 'BF16' ? bf16ToF32 : f16ToF32);
}
