import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { noGrad } from '@tessera/autograd';
import { previewLossMask } from '@tessera/datasets';
import { estimateMemory, generateStream, loadModel, parseLlamaConfig, saveModel, type LoadedModel } from '@tessera/models';
import { PeftModel, fromPeftJson } from '@tessera/peft';
import { loadAdapter } from '@tessera/peft/node';
import type { LlamaForCausalLM } from '@tessera/models';

/** Loads a model folder and, when given, a PEFT adapter folder on top of it. */
export async function loadWithAdapter(modelDir: string, adapterDir?: string): Promise<LoadedModel & { peft: PeftModel | null }> {
  const loaded = await loadModel(modelDir);
  if (!loaded.tokenizer) throw new Error(`--model ${modelDir}: no tokenizer.json; chat and generation need one`);
  let peft: PeftModel | null = null;
  if (adapterDir) {
    const json = await readFile(`${adapterDir}/adapter_config.json`, 'utf8').catch(() => {
      throw new Error(`--adapter ${adapterDir}: no adapter_config.json; pass a PEFT adapter folder (a run's adapter/ or checkpoint/)`);
    });
    peft = new PeftModel(loaded.model, fromPeftJson(JSON.parse(json)));
    await loadAdapter(peft, adapterDir);
    console.log(`adapter: ${adapterDir}`);
  }
  loaded.model.eval();
  return { ...loaded, peft };
}

/** Streams one chat reply to stdout token by token; returns the text. */
export async function streamReply(m: LoadedModel, messages: Array<{ role: string; content: string }>, maxNewTokens: number): Promise<string> {
  const tok = m.tokenizer!;
  const ids = tok.encode(tok.applyChatTemplate(messages, { addGenerationPrompt: true }).text, { addSpecialTokens: false }).ids;
  let text = '';
  await noGrad(async () => {
    for await (const ev of generateStream(m.model, [ids], { ...m.generationDefaults, maxNewTokens, tokenizer: tok })) {
      if (ev.textDelta) {
        process.stdout.write(ev.textDelta);
        text += ev.textDelta;
      }
    }
  });
  process.stdout.write('\n');
  return text;
}

/** `chat`: one prompt (--prompt) or an interactive loop, streaming tokens. */
export async function chatCommand(o: { model: string; adapter?: string; prompt?: string; maxNewTokens: number }): Promise<void> {
  const m = await loadWithAdapter(o.model, o.adapter);
  if (o.prompt !== undefined) {
    await streamReply(m, [{ role: 'user', content: o.prompt }], o.maxNewTokens);
    return;
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const history: Array<{ role: string; content: string }> = [];
  console.log('chat: type a message (empty line or Ctrl-D to quit, /reset to clear the history)');
  for (;;) {
    const line = await rl.question('> ').catch(() => '');
    if (line.trim() === '') break;
    if (line.trim() === '/reset') {
      history.length = 0;
      continue;
    }
    history.push({ role: 'user', content: line });
    history.push({ role: 'assistant', content: await streamReply(m, history, o.maxNewTokens) });
  }
  rl.close();
}

/** `merge`: folds an adapter into the base weights and saves a plain Hugging Face folder. */
export async function mergeCommand(o: { model: string; adapter: string; out: string }): Promise<void> {
  const m = await loadWithAdapter(o.model, o.adapter);
  const merged = m.peft!.mergeAndUnload() as LlamaForCausalLM;
  await saveModel(merged, o.out, { tokenizer: m.tokenizer, generationConfig: m.generationConfig, dtype: m.config.torchDtype === 'bfloat16' ? 'bf16' : 'f32' });
  console.log(`merged ${o.adapter} into ${o.model}; wrote ${o.out}`);
}

/** `preview-data`: the loss-mask preview of the first records of a JSONL file. */
export async function previewDataCommand(o: { model: string; data: string; count: number; trainOnInputs: boolean }): Promise<void> {
  const { tokenizer } = await loadModel(o.model);
  const lines = (await readFile(o.data, 'utf8')).split('\n').filter((l) => l.trim() !== '').slice(0, o.count);
  lines.forEach((l, i) => {
    console.log(`--- ${o.data}:${i + 1}`);
    console.log(previewLossMask(tokenizer!, JSON.parse(l), { trainOnInputs: o.trainOnInputs, format: process.stdout.isTTY ? 'ansi' : 'text' }));
  });
}

/** `estimate`: memory of a model/config before running. */
export async function estimateCommand(o: { model: string; batch: number; seq: number; r: number; targets: string[] }): Promise<void> {
  const config = parseLlamaConfig(await readFile(`${o.model}/config.json`, 'utf8'));
  const e = estimateMemory(config, { dtype: 'f32', batch: o.batch, seq: o.seq, lora: o.r > 0 ? { r: o.r, targetModules: o.targets } : undefined, optimizer: 'adamw' });
  const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  console.log(`parameters: ${e.parameters.total.toLocaleString()} (trainable ${e.parameters.trainable.toLocaleString()})`);
  for (const [k, v] of Object.entries(e.bytes)) console.log(`${k.padEnd(12)} ${mb(v)}`);
}
