/** Node file helpers for @tessera/peft: PEFT adapter folders on disk (each file written atomically). */
import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@tessera/safetensors/node';
import { adapterFiles, loadAdapterFiles, parseAdapterConfig } from './adapter-files.js';
import type { PeftModel } from './peft-model.js';

/**
 * Writes `adapter_config.json` and `adapter_model.safetensors` into `dir` (PEFT's `save_pretrained`).
 * Each file is replaced atomically, the config first and the weights last: a crash in between
 * leaves the new config beside the old weights, never new weights under an old config.
 */
export async function saveAdapter(peft: PeftModel, dir: string, name = peft.activeAdapter): Promise<void> {
  const files = await adapterFiles(peft, name);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'adapter_config.json'), (h) => h.writeFile(files.config));
  await writeFileAtomic(join(dir, 'adapter_model.safetensors'), (h) => h.writeFile(files.weights));
}

/** Loads a PEFT adapter folder into the model under `name` (PEFT's `load_adapter`). */
export async function loadAdapter(peft: PeftModel, dir: string, name = 'default'): Promise<void> {
  const read = async (file: string): Promise<Buffer> => {
    try {
      return await readFile(join(dir, file));
    } catch (err) {
      throw new Error(`loadAdapter: cannot read ${join(dir, file)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors`);
    }
  };
  const config = parseAdapterConfig((await read('adapter_config.json')).toString('utf8'), join(dir, 'adapter_config.json'));
  loadAdapterFiles(peft, { config, weights: await read('adapter_model.safetensors') }, name);
}
