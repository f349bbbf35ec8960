// The CPU kernel registry: one explicit list, one entry per primitive of @tessera/tensor, plus fused
// kernels for the composites that dominate a training step.
import { OPS, type OpDef } from '@tessera/tensor';
import type { CpuKernel } from './cpu-kernel.js';
import { arangeKernel } from './kernels/arange.js';
import { argmaxKernel, argminKernel } from './kernels/arg-reduce.js';
import { attentionForwardKernel, attentionKernel } from './kernels/attention-forward.js';
import { attentionGradKVKernel } from './kernels/attention-grad-kv.js';
import { attentionGradQKernel } from './kernels/attention-grad-q.js';
import { BINARY_KERNELS } from './kernels/binary.js';
import { castKernel } from './kernels/cast.js';
import { concatKernel } from './kernels/concat.js';
import { copyKernel } from './kernels/copy.js';
import { crossEntropyBackwardKernel, crossEntropyLossesKernel } from './kernels/cross-entropy.js';
import { fullKernel } from './kernels/full.js';
import { gatherKernel } from './kernels/gather.js';
import { geluBackwardKernel, geluKernel } from './kernels/gelu.js';
import { layerNormBackwardKernel, layerNormKernel } from './kernels/layer-norm.js';
import { matmulKernel } from './kernels/matmul.js';
import { nf4DequantizeKernel } from './kernels/nf4-dequantize.js';
import { nf4MatmulKernel } from './kernels/nf4-matmul.js';
import { padKernel } from './kernels/pad.js';
import { randomKernel } from './kernels/random.js';
import { maxKernel, minKernel, sumKernel } from './kernels/reduce.js';
import { rmsNormBackwardKernel, rmsNormKernel } from './kernels/rms-norm.js';
import { rotaryBackwardKernel, rotaryKernel } from './kernels/rotary.js';
import { scatterAddKernel } from './kernels/scatter-add.js';
import { logSoftmaxBackwardKernel, logSoftmaxKernel, softmaxBackwardKernel, softmaxKernel } from './kernels/softmax.js';
import { UNARY_KERNELS } from './kernels/unary.js';
import { whereKernel } from './kernels/where.js';

const unary = (op: OpDef): [OpDef, CpuKernel] => [op, UNARY_KERNELS.get(op)!];
const binary = (op: OpDef): [OpDef, CpuKernel] => [op, BINARY_KERNELS.get(op)!];

/** Every CPU kernel, keyed by the op object of @tessera/tensor. */
export const CPU_KERNELS: ReadonlyMap<OpDef, CpuKernel> = new Map<OpDef, CpuKernel>([
  // creation
  [OPS.full, fullKernel],
  [OPS.arange, arangeKernel],
  [OPS.random, randomKernel],
  // unary (one scalar function each, see kernels/unary.ts)
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
  // binary (one scalar function each, see kernels/binary.ts)
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
  [OPS.sum, sumKernel],
  [OPS.max, maxKernel],
  [OPS.min, minKernel],
  [OPS.argmax, argmaxKernel],
  [OPS.argmin, argminKernel],
  // linear algebra
  [OPS.matmul, matmulKernel],
  // copies and indexing
  [OPS.copy, copyKernel],
  [OPS.cast, castKernel],
  [OPS.pad, padKernel],
  [OPS.gather, gatherKernel],
  [OPS.scatterAdd, scatterAddKernel],
  [OPS.concat, concatKernel],
  // quantised weights: dequantisation, and the fused NF4 product (a composite's kernel)
  [OPS.nf4Dequantize, nf4DequantizeKernel],
  [OPS.nf4Matmul, nf4MatmulKernel],
  // fused composites: softmax, norms and cross-entropy with their gradients (tests hold them to the decompositions)
  [OPS.softmax, softmaxKernel],
  [OPS.logSoftmax, logSoftmaxKernel],
  [OPS.softmaxBackward, softmaxBackwardKernel],
  [OPS.logSoftmaxBackward, logSoftmaxBackwardKernel],
  [OPS.layerNorm, layerNormKernel],
  [OPS.layerNormBackward, layerNormBackwardKernel],
  [OPS.crossEntropyLosses, crossEntropyLossesKernel],
  [OPS.crossEntropyBackward, crossEntropyBackwardKernel],
  [OPS.rmsNorm, rmsNormKernel],
  [OPS.rmsNormBackward, rmsNormBackwardKernel],
  [OPS.rotary, rotaryKernel],
  [OPS.rotaryBackward, rotaryBackwardKernel],
  [OPS.gelu, geluKernel],
  [OPS.geluBackward, geluBackwardKernel],
  // fused attention: a row of scores per query, never a (T, S) matrix (dropout declines to the decomposition)
  [OPS.attention, attentionKernel],
  [OPS.attentionForward, attentionForwardKernel],
  [OPS.attentionGradQ, attentionGradQKernel],
  [OPS.attentionGradKV, attentionGradKVKernel],
]);
