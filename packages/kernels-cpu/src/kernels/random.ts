// Element i draws from counter (stream.counter + i) through the shared reference functions of
// @tessera/tensor, so every backend produces bit-identical numbers for the same stream.
import { allocTyped, numel, streamWords, wordToInt, wordToUniform, wordsToNormal, type DType, type RandomKind, type RandomStream, type Shape } from '@tessera/tensor';
import { storeFor, type CpuKernel } from '../cpu-kernel.js';

/** Attributes of the random op. */
export interface RandomAttrs {
  shape: Shape;
  dtype: DType;
  kind: RandomKind;
  stream: RandomStream;
  low: number;
  high: number;
}

/** Uniform values in [low, high), standard normals (low/high unused), or integers in [low, high). */
export const randomKernel: CpuKernel<RandomAttrs> = (_inputs, { kind, stream, low, high }, out) => {
  const n = numel(out.shape);
  const dst = allocTyped(out.dtype, n);
  const store = storeFor(out.dtype);
  const words = new Uint32Array(4);
  for (let i = 0; i < n; i++) {
    streamWords(stream, i, words);
    const w0 = words[0]!;
    dst[i] = store(
      kind === 'uniform' ? low + (high - low) * wordToUniform(w0) : kind === 'normal' ? wordsToNormal(w0, words[1]!) : wordToInt(w0, low, high),
    );
  }
  return dst;
};
