import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { noGrad } from '@tessera/autograd';
import { generateStream, loadModel, type FinishReason, type LoadedModel } from '@tessera/models';
import { PeftModel, fromPeftJson, loadAdapterFiles } from '@tessera/peft';
import { OpenAiError } from './openai-error.js';
import type { SamplingRequest } from './openai-request.js';
import { SerialQueue } from './serial-queue.js';
import { StopTrimmer } from './stop-trimmer.js';

/** An adapter to serve: the model name clients pass and its PEFT folder. */
export interface AdapterSpec {
  name: string;
  dir: string;
}

/** What one generation returns, in OpenAI's terms. */
export interface Completion {
  text: string;
  finishReason: 'stop' | 'length';
  promptTokens: number;
  completionTokens: number;
}

const finishOf = (r: FinishReason | undefined, stopped: boolean): 'stop' | 'length' => (stopped || r === 'eos' || r === 'stop' ? 'stop' : 'length');

/**
 * One base model with any number of LoRA adapters loaded side by side. A request names the base
 * (adapters disabled) or an adapter (made the active one); requests run one at a time.
 */
export class ServedModel {
  readonly queue = new SerialQueue();
  readonly created = Math.floor(Date.now() / 1000);
  private constructor(
    readonly loaded: LoadedModel,
    readonly baseName: string,
    readonly peft: PeftModel | null,
    readonly adapterNames: string[],
  ) {}

  /** Loads the base folder and every adapter folder; names must be unique and differ from the base's. */
  static async load(modelDir: string, adapters: AdapterSpec[], baseName = path.basename(path.resolve(modelDir))): Promise<ServedModel> {
    const loaded = await loadModel(modelDir);
    if (!loaded.tokenizer) throw new Error(`serve --model ${modelDir}: no tokenizer.json in the folder; the server needs one to read prompts`);
    const names = new Set([baseName]);
    let peft: PeftModel | null = null;
    // PeftModel keeps each adapter's own copy of its modules_to_save (as PEFT does), so adapters that
    // save the same module (the default run's embed_tokens, say) load side by side.
    for (const a of adapters) {
      if (names.has(a.name)) throw new Error(`serve --adapter ${a.name}=${a.dir}: the name "${a.name}" is taken (by the base model or another adapter); give each adapter its own name`);
      names.add(a.name);
      const read = (f: string): Promise<Buffer> =>
        readFile(path.join(a.dir, f)).catch((err: NodeJS.ErrnoException) => {
          throw new Error(`serve --adapter ${a.name}=${a.dir}: cannot read ${f} (${err.code}); pass a PEFT adapter folder (a run's adapter/ or checkpoint/)`);
        });
      const config = (await read('adapter_config.json')).toString('utf8');
      const weights = await read('adapter_model.safetensors');
      peft ??= new PeftModel(loaded.model, fromPeftJson(JSON.parse(config) as Record<string, unknown>), a.name);
      loadAdapterFiles(peft, { config, weights }, a.name);
    }
    loaded.model.eval();
    return new ServedModel(loaded, baseName, peft, adapters.map((a) => a.name));
  }

  /** Every name a request may pass as `model`: the base first. */
  get names(): string[] {
    return [this.baseName, ...this.adapterNames];
  }

  /** The prompt ids of a chat: the tokenizer's chat template with the generation prompt. */
  chatPromptIds(messages: Array<{ role: string; content: string }>): number[] {
    const tok = this.loaded.tokenizer!;
    return tok.encode(tok.applyChatTemplate(messages, { addGenerationPrompt: true }).text, { addSpecialTokens: false }).ids;
  }

  /** The prompt ids of a plain completion. */
  textPromptIds(prompt: string): number[] {
    return this.loaded.tokenizer!.encode(prompt).ids;
  }

  /** Checks that `model` names the base or an adapter; a 404 listing the available names otherwise. */
  checkName(model: string): void {
    if (!this.names.includes(model)) throw new OpenAiError(404, `The model '${model}' does not exist; available models: ${this.names.join(', ')}`, 'model', 'model_not_found');
  }

  /**
   * Generates for one request after those queued before it: `onText` receives the reply as it
   * grows (stop sequences already cut), `cancelled` ends generation early (a client that left).
   */
  generate(ids: number[], req: SamplingRequest, onText?: (delta: string) => void, cancelled: () => boolean = () => false): Promise<Completion> {
    this.checkName(req.model);
    return this.queue.run(() => this.#generateNow(ids, req, onText, cancelled));
  }

  async #generateNow(ids: number[], req: SamplingRequest, onText: ((delta: string) => void) | undefined, cancelled: () => boolean): Promise<Completion> {
    const tok = this.loaded.tokenizer!;
    if (ids.length + req.maxTokens > this.loaded.config.maxPositionEmbeddings) {
      throw new OpenAiError(400, `This model's maximum context length is ${this.loaded.config.maxPositionEmbeddings} tokens; the prompt has ${ids.length} and max_tokens asks for ${req.maxTokens}. Shorten the prompt or lower max_tokens.`, 'max_tokens', 'context_length_exceeded');
    }
    this.#select(req.model);
    const trimmer = new StopTrimmer(req.stop);
    let text = '';
    const emit = (d: string): void => {
      if (!d) return;
      text += d;
      onText?.(d);
    };
    let completionTokens = 0;
    let reason: FinishReason | undefined;
    if (req.maxTokens > 0) {
      await noGrad(async () => {
        const stream = generateStream(this.loaded.model, [ids], {
          ...this.loaded.generationDefaults,
          maxNewTokens: req.maxTokens,
          doSample: req.temperature > 0,
          temperature: req.temperature > 0 ? req.temperature : 1,
          topP: req.topP > 0 ? req.topP : 1,
          topK: 0,
          repetitionPenalty: 1,
          seed: req.seed ?? Math.floor(Math.random() * 2 ** 31),
          tokenizer: tok,
          stopStrings: req.stop.length ? req.stop : undefined,
        });
        for await (const ev of stream) {
          completionTokens++;
          emit(trimmer.push(ev.textDelta ?? ''));
          reason = ev.finishReason ?? reason;
          if (trimmer.stopped || cancelled()) break;
        }
      });
    }
    emit(trimmer.flush());
    return { text, finishReason: req.maxTokens === 0 ? 'length' : finishOf(reason, trimmer.stopped), promptTokens: ids.length, completionTokens };
  }

  // The base name disables every adapter (saved modules back at their original values); an adapter name makes it the only active one.
  #select(model: string): void {
    if (!this.peft) return;
    if (model === this.baseName) {
      this.peft.disableAdapterLayers();
      return;
    }
    this.peft.setAdapter(model);
    this.peft.enableAdapterLayers();
  }
}
