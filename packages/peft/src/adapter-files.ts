// PEFT's on-disk adapter format: adapter_config.json plus adapter_model.safetensors whose keys are
// `base_model.model.<module path>.lora_A.weight` etc. with the adapter name removed, as PEFT's
// get_peft_model_state_dict writes them; loading puts the name back.
import { readSafetensors, serializeSafetensors, type Dtype as SafetensorsDType } from '@tessera/safetensors';
import { bf16ToF32, f16ToF32, tensor, type DType, type Tensor } from '@tessera/tensor';
import { fromPeftJson, toPeftJson, type LoraConfig } from './lora-config.js';
import type { PeftModel } from './peft-model.js';

const PREFIX = 'base_model.model.';

const TO_ST: Partial<Record<DType, SafetensorsDType>> = { f32: 'F32', f64: 'F64', f16: 'F16', bf16: 'BF16' };
const FROM_ST: Partial<Record<SafetensorsDType, DType>> = { F32: 'f32', F64: 'f64', F16: 'f16', BF16: 'bf16' };

/** PEFT's key for a Tessera parameter path of adapter `name`, or null when the parameter is not saved with it. */
export function peftKey(path: string, name: string, cfg: LoraConfig, loraLayerPaths: ReadonlySet<string>): string | null {
  const adapter = new RegExp(`^(.*)\\.(lora_A|lora_B)\\.${escape(name)}\\.weight$`).exec(path);
  if (adapter) return `${PREFIX}${adapter[1]}.${adapter[2]}.weight`;
  const dora = new RegExp(`^(.*)\\.lora_magnitude_vector\\.${escape(name)}\\.weight$`).exec(path);
  if (dora) return `${PREFIX}${dora[1]}.lora_magnitude_vector`;
  const emb = new RegExp(`^(.*)\\.(lora_embedding_A|lora_embedding_B)\\.${escape(name)}$`).exec(path);
  if (emb) return `${PREFIX}${emb[1]}.${emb[2]}`;
  if (/\.(lora_A|lora_B|lora_magnitude_vector|lora_embedding_A|lora_embedding_B)\./.test(path)) return null; // another adapter's
  if (cfg.modulesToSave.some((m) => path.startsWith(`${m}.`) || path.includes(`.${m}.`))) return PREFIX + path;
  if (path.endsWith('.bias')) {
    const owner = path.slice(0, -'.bias'.length);
    if (cfg.bias === 'all' || (cfg.bias === 'lora_only' && loraLayerPaths.has(owner))) return PREFIX + path;
  }
  return null;
}

/** The two files PEFT's `save_pretrained` writes for one adapter, in memory. */
export async function adapterFiles(peft: PeftModel, name = peft.activeAdapter): Promise<{ config: string; weights: Uint8Array }> {
  const cfg = peft.configs.get(name);
  if (!cfg) throw new Error(`adapterFiles: no adapter named "${name}" (adapters: ${[...peft.configs.keys()].join(', ')})`);
  const layers = new Set(peft.loraLayers().map(([p]) => p));
  const entries = new Map<string, { dtype: SafetensorsDType; shape: number[]; data: Uint8Array }>();
  for (const [path, t] of peft.model.namedParameters()) {
    const key = peftKey(path, name, cfg, layers);
    if (!key) continue;
    const dtype = TO_ST[t.dtype];
    if (!dtype) throw new Error(`adapterFiles: parameter "${path}" has dtype ${t.dtype}; adapters are saved as floating point`);
    const values = await t.contiguous().data();
    const raw = t.dtype === 'f16' || t.dtype === 'bf16' ? await rawHalf(t) : values;
    entries.set(key, { dtype, shape: [...t.shape], data: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) });
  }
  if (entries.size === 0) throw new Error(`adapterFiles: adapter "${name}" has no parameters to save`);
  return { config: JSON.stringify(toPeftJson(cfg), null, 2) + '\n', weights: serializeSafetensors(entries, { format: 'pt' }) };
}

async function rawHalf(t: Tensor): Promise<Uint16Array> {
  const raw = await t.storage.backend.read(t.storage);
  return (raw as Uint16Array).slice(t.offset, t.offset + t.size);
}

/**
 * Loads a PEFT adapter (its adapter_config.json text and adapter_model.safetensors bytes) into the
 * model under `name`: adds the adapter from the config, then fills every saved tensor, with a clear
 * error for keys that fit no parameter and parameters the file lacks.
 */
export function loadAdapterFiles(peft: PeftModel, files: { config: string | Record<string, unknown>; weights: Uint8Array | ArrayBuffer }, name = 'default'): void {
  const cfg = fromPeftJson(typeof files.config === 'string' ? (JSON.parse(files.config) as Record<string, unknown>) : files.config);
  const st = readSafetensors(files.weights);
  if (!peft.configs.has(name)) peft.addAdapter(name, cfg);
  const layers = new Set(peft.loraLayers().map(([p]) => p));
  const byKey = new Map<string, [string, Tensor]>();
  for (const [path, t] of peft.model.namedParameters()) {
    const key = peftKey(path, name, cfg, layers);
    if (key) byKey.set(key, [path, t]);
  }
  const unexpected = [...st.tensors.keys()].filter((k) => !byKey.has(k));
  if (unexpected.length) {
    throw new Error(`loadAdapter: ${unexpected.length} tensors in adapter_model.safetensors fit no parameter of the model (e.g. ${unexpected.slice(0, 3).join(', ')}); is it an adapter for another model?`);
  }
  const missing = [...byKey.keys()].filter((k) => !st.tensors.has(k));
  if (missing.length) throw new Error(`loadAdapter: adapter_model.safetensors lacks ${missing.length} tensors (e.g. ${missing.slice(0, 3).join(', ')})`);
  for (const [key, loaded] of st.tensors) {
    const [path, target] = byKey.get(key)!;
    const dtype = FROM_ST[loaded.dtype];
    if (!dtype) throw new Error(`loadAdapter: "${key}" has dtype ${loaded.dtype}; expected a floating-point dtype`);
    if (loaded.shape.length !== target.rank || loaded.shape.some((d, i) => d !== target.shape[i])) {
      throw new Error(`loadAdapter: "${key}" has shape [${loaded.shape.join(',')}] but ${path} is [${target.shape.join(',')}] (rank or target modules differ?)`);
    }
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

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
