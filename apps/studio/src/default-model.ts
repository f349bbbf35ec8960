// The built-in model: apps/trainer's committed small Llama (see apps/trainer/assets/README.md),
// bundled into the app as static assets, so it loads from the studio's own origin (and offline).
import configUrl from '../../trainer/assets/default-model/config.json?url';
import generationConfigUrl from '../../trainer/assets/default-model/generation_config.json?url';
import weightsUrl from '../../trainer/assets/default-model/model.safetensors?url';
import tokenizerUrl from '../../trainer/assets/default-model/tokenizer.json?url';
import tokenizerConfigUrl from '../../trainer/assets/default-model/tokenizer_config.json?url';

const FILES: Array<[name: string, url: string]> = [
  ['config.json', configUrl],
  ['generation_config.json', generationConfigUrl],
  ['model.safetensors', weightsUrl],
  ['tokenizer.json', tokenizerUrl],
  ['tokenizer_config.json', tokenizerConfigUrl],
];

/** The default model folder's files, fetched from the app's assets. */
export async function fetchDefaultModel(): Promise<Array<{ name: string; bytes: ArrayBuffer }>> {
  return Promise.all(
    FILES.map(async ([name, url]) => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`built-in model: ${name} answered HTTP ${res.status} at ${url}; the app's build is incomplete, rebuild it with "pnpm --filter @tessera/studio build"`);
      return { name, bytes: await res.arrayBuffer() };
    }),
  );
}
