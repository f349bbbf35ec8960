// Random numbers. Philox-4x32 needs exact 32-bit integer multiplies (high and low words), which GLSL ES
// float shaders cannot express; the words are drawn on the host through @tessera/tensor's reference
// functions (bit-identical to every other backend) and uploaded once.
import { numel, streamWords, wordToInt, wordToUniform, wordsToNormal, type DType, type RandomKind, type RandomStream, type Shape } from '@tessera/tensor';
import { checkElementCount, checkExactInteger } from '../exact-integers.js';
import type { GpuJsKernel } from '../gpujs-kernel.js';

/** Attributes of the random op. */
export interface RandomAttrs {
  shape: Shape;
  dtype: DType;
  kind: RandomKind;
  stream: RandomStream;
  low: number;
  high: number;
}

/** Uniform values in [low, high), standard normals, or integers in [low, high). */
export const randomKernel: GpuJsKernel<RandomAttrs> = (ctx, _inputs, { kind, stream, low, high, dtype }, out) => {
  const n = numel(out.shape);
  // Refused before drawing: upload would refuse the size only after every word was drawn.
  checkElementCount('random: the output', n);
  if (kind === 'int' && (dtype === 'i32' || dtype === 'u32') && n > 0) {
    // Integers of [low, high) beyond ±2^24 would be rounded (integer dtypes only: a float dtype rounds them on every backend).
    checkExactInteger('random', dtype, low, ` (low of [${low}, ${high}))`);
    checkExactInteger('random', dtype, high - 1, ` (the top of [${low}, ${high}))`);
  }
  const values = new Float32Array(n);
  const words = new Uint32Array(4);
  for (let i = 0; i < n; i++) {
    streamWords(stream, i, words);
    const w0 = words[0]!;
    values[i] = kind === 'uniform' ? low + (high - low) * wordToUniform(w0) : kind === 'normal' ? wordsToNormal(w0, words[1]!) : wordToInt(w0, low, high);
  }
  return ctx.upload(values);
};
