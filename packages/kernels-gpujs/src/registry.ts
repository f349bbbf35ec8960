// The gpu.js kernel registry: one explicit list, one entry per primitive of @tessera/tensor, plus the
// fused composites.
import { OPS, type OpDef } from '@tessera/tensor';
import type { GpuJsKernel } from './gpujs-kernel.js';
import { argmaxKernel, argminKernel } from './kernels/arg-reduce.js';
import { binaryKernel } from './kernels/binary.js';
import { castKernel, copyKernel } from './kernels/cast.js';
import { concatKernel } from './kernels/concat.js';
import { crossEntropyBackwardKernel, crossEntropyLossesKernel } from './kernels/cross-entropy.js';
import { arangeKernel, fullKernel } from './kernels/full.js';
import { gatherKernel } from './kernels/gather.js';
import { matmulKernel } from './kernels/matmul.js';
import { nf4DequantizeKernel } from './kernels/nf4-dequantize.js';
import { layerNormKernel, rmsNormKernel } from './kernels/norms.js';
import { padKernel } from './kernels/pad.js';
import { randomKernel } from './kernels/random.js';
import { rotaryBackwardKernel, rotaryForwardKernel } from './kernels/rotary.js';
import { reduceKernel } from './kernels/reduce.js';
import { scatterAddKernel } from './kernels/scatter-add.js';
import { logSoftmaxKernel, softmaxKernel } from './kernels/softmax.js';
import { unaryKernel } from './kernels/unary.js';
import { whereKernel } from './kernels/where.js';

const unary = (op: OpDef): [OpDef, GpuJsKernel] => [op, unaryKernel(op)];
const binary = (op: OpDef): [OpDef, GpuJsKernel] => [op, binaryKernel(op)];

/** Every gpu.js kernel, keyed by the op object of @tessera/tensor. */
export const GPUJS_KERNELS: ReadonlyMap<OpDef, GpuJsKernel> = new Map<OpDef, GpuJsKernel>([
  // creation
  [OPS.full, fullKernel],
  [OPS.arange, arangeKernel],
  [OPS.random, randomKernel],
  // unary
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
  // binary
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
  [OPS.sum, reduceKernel('sum')],
  [OPS.max, reduceKernel('max')],
  [OPS.min, reduceKernel('min')],
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
  // quantised weights
  [OPS.nf4Dequantize, nf4DequantizeKernel],
  // fused composites (each held to its decomposition by test/fused-properties.ts, run from
  // test/ops.prop.test.ts and test/ops.gpu.test.ts); the others decompose
  [OPS.softmax, softmaxKernel],
  [OPS.logSoftmax, logSoftmaxKernel],
  [OPS.layerNorm, layerNormKernel],
  [OPS.rmsNorm, rmsNormKernel],
  [OPS.crossEntropyLosses, crossEntropyLossesKernel],
  [OPS.crossEntropyBackward, crossEntropyBackwardKernel],
  [OPS.rotary, rotaryForwardKernel],
  [OPS.rotaryBackward, rotaryBackwardKernel],
]);
