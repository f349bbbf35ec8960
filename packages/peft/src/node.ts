/** Node file helpers for @tessera/peft: PEFT adapter folders on disk (written atomically). */
import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@tessera/safetensors/node';
import { adapterFiles, loadAdapterFiles } from './adapter-files.js';
import type { PeftModel } from './peft-model.js';

/** Writes `adapter_config.json` and `adapter_model.safetensors` into `dir` (PEFT's `save_pretrained`). */
export async function saveAdapter(peft: PeftModel, dir: string, name = peft.activeAdapter): Promise<void> {
  const files = await adapterFiles(peft, name);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'adapter_model.safetensors'), (h) => h.writeFile(files.weights));
  await writeFileAtomic(join(dir, 'adapter_config.json'), (h) => h.writeFile(files.config));
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
  loadAdapterFiles(peft, { config: (await read('adapter_config.json')).toString('utf8'), weights: await read('adapter_model.safetensors') }, name);
}
