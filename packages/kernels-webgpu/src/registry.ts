// The WebGPU kernel registry: one explicit list, one entry per primitive of @tessera/tensor.
import { OPS, type OpDef } from '@tessera/tensor';
import type { GpuKernel } from './gpu-kernel.js';
import { attentionForwardKernel, attentionKernel } from './kernels/attention-forward.js';
import { attentionGradKVKernel } from './kernels/attention-grad-kv.js';
import { attentionGradQKernel } from './kernels/attention-grad-q.js';
import { argmaxKernel, argminKernel } from './kernels/arg-reduce.js';
import { binaryKernel } from './kernels/binary.js';
import { castKernel, copyKernel } from './kernels/cast.js';
import { concatKernel } from './kernels/concat.js';
import { crossEntropyBackwardKernel, crossEntropyLossesKernel } from './kernels/cross-entropy.js';
import { arangeKernel, fullKernel } from './kernels/full.js';
import { gatherKernel } from './kernels/gather.js';
import { matmulKernel } from './kernels/matmul.js';
import { windowedMatmul } from './kernels/matmul-windowed.js';
import { nf4DequantizeKernel } from './kernels/nf4-dequantize.js';
import { nf4MatmulKernel } from './kernels/nf4-matmul.js';
import { padKernel } from './kernels/pad.js';
import { randomKernel } from './kernels/random.js';
import { reduceKernel } from './kernels/reduce.js';
import { scatterAddKernel } from './kernels/scatter-add.js';
import { logSoftmaxKernel, softmaxKernel } from './kernels/softmax.js';
import { layerNormKernel } from './kernels/layer-norm.js';
import { rmsNormKernel } from './kernels/rms-norm.js';
import { layerNormBackwardKernel, rmsNormBackwardKernel } from './kernels/norm-backward.js';
import { rotaryBackwardKernel, rotaryForwardKernel } from './kernels/rotary.js';
import { logSoftmaxBackwardKernel, softmaxBackwardKernel } from './kernels/softmax-backward.js';
import { unaryKernel } from './kernels/unary.js';
import { whereKernel } from './kernels/where.js';

const unary = (op: OpDef): [OpDef, GpuKernel] => [op, unaryKernel(op)];
const binary = (op: OpDef): [OpDef, GpuKernel] => [op, binaryKernel(op)];

/** Every WebGPU kernel, keyed by the op object of @tessera/tensor. */
export const WEBGPU_KERNELS: ReadonlyMap<OpDef, GpuKernel> = new Map<OpDef, GpuKernel>([
  // creation
  [OPS.full, fullKernel],
  [OPS.arange, arangeKernel],
  [OPS.random, randomKernel],
  // unary (one WGSL expression each, see kernels/unary.ts)
  unary(OPS.neg),
  unary(OPS.abs),
  unary(OPS.sign),
  unary(OPS.exp),
  unary(OPS.log),
  unary(OPS.log1p),
  unary(OPS.sqrt),
  unary(OPS.rsqrt),
  unary(OPS.sin),
  unary(OPS.cos),
  unary(OPS.tanh),
  unary(OPS.sigmoid),
  unary(OPS.relu),
  unary(OPS.erf),
  unary(OPS.softplus),
  unary(OPS.clamp),
  // binary (one WGSL expression each, see kernels/binary.ts)
  binary(OPS.add),
  binary(OPS.sub),
  binary(OPS.mul),
  binary(OPS.div),
  binary(OPS.pow),
  binary(OPS.maximum),
  binary(OPS.minimum),
  binary(OPS.eq),
  binary(OPS.ne),
  binary(OPS.lt),
  binary(OPS.le),
  binary(OPS.gt),
  binary(OPS.ge),
  [OPS.where, whereKernel],
  // reductions
  [OPS.sum, reduceKernel(OPS.sum)],
  [OPS.max, reduceKernel(OPS.max)],
  [OPS.min, reduceKernel(OPS.min)],
  [OPS.argmax, argmaxKernel],
  [OPS.argmin, argminKernel],
  // linear algebra
  [OPS.matmul, windowedMatmul(matmulKernel)],
  // copies and indexing
  [OPS.copy, copyKernel],
  [OPS.cast, castKernel],
  [OPS.pad, padKernel],
  [OPS.gather, gatherKernel],
  [OPS.scatterAdd, scatterAddKernel],
  [OPS.concat, concatKernel],
  // quantised weights
  [OPS.nf4Dequantize, nf4DequantizeKernel],
  // fused composites (each held to its decomposition by test/fused.gpu.test.ts)
  [OPS.softmax, softmaxKernel],
  [OPS.logSoftmax, logSoftmaxKernel],
  [OPS.layerNorm, layerNormKernel],
  [OPS.rmsNorm, rmsNormKernel],
  [OPS.nf4Matmul, nf4MatmulKernel],
  [OPS.softmaxBackward, softmaxBackwardKernel],
  [OPS.logSoftmaxBackward, logSoftmaxBackwardKernel],
  [OPS.layerNormBackward, layerNormBackwardKernel],
  [OPS.rmsNormBackward, rmsNormBackwardKernel],
  [OPS.rotary, rotaryForwardKernel],
  [OPS.rotaryBackward, rotaryBackwardKernel],
  [OPS.crossEntropyLosses, crossEntropyLossesKernel],
  [OPS.crossEntropyBackward, crossEntropyBackwardKernel],
  [OPS.attention, attentionKernel],
  [OPS.attentionForward, attentionForwardKernel],
  [OPS.attentionGradQ, attentionGradQKernel],
  [OPS.attentionGradKV, attentionGradKVKernel],
]);

/** Kernels whose invocations write single elements, so packed output dtypes are computed 32-bit and cast. */
export const WIDENED_OUTPUT: ReadonlySet<OpDef> = new Set<OpDef>([OPS.sum, OPS.max, OPS.min, OPS.matmul, OPS.scatterAdd, OPS.softmax, OPS.logSoftmax, OPS.layerNorm, OPS.rmsNorm, OPS.softmaxBackward, OPS.logSoftmaxBackward, OPS.layerNormBackward, OPS.rmsNormBackward, OPS.crossEntropyLosses, OPS.crossEntropyBackward, OPS.attention, OPS.attentionForward, OPS.attentionGradQ, OPS.attentionGradKV]);
