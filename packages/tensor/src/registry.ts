// The op registry: one explicit list of every op definition, so kernels packages and tests can
// check coverage (every primitive has a kernel, every differentiable op a gradient check).
import type { OpDef } from './op.js';
import * as o from './ops/index.js';

/** Every op of @tessera/tensor, keyed by name. */
export const OPS = {
  // creation
  full: o.fullOp,
  arange: o.arangeOp,
  random: o.randomOp,
  // unary
  neg: o.negOp,
  abs: o.absOp,
  sign: o.signOp,
  exp: o.expOp,
  log: o.logOp,
  log1p: o.log1pOp,
  sqrt: o.sqrtOp,
  rsqrt: o.rsqrtOp,
  sin: o.sinOp,
  cos: o.cosOp,
  tanh: o.tanhOp,
  sigmoid: o.sigmoidOp,
  relu: o.reluOp,
  erf: o.erfOp,
  softplus: o.softplusOp,
  clamp: o.clampOp,
  square: o.squareOp,
  gelu: o.geluOp,
  geluBackward: o.geluBackwardOp,
  silu: o.siluOp,
  // binary
  add: o.addOp,
  sub: o.subOp,
  mul: o.mulOp,
  div: o.divOp,
  pow: o.powOp,
  maximum: o.maximumOp,
  minimum: o.minimumOp,
  eq: o.eqOp,
  ne: o.neOp,
  lt: o.ltOp,
  le: o.leOp,
  gt: o.gtOp,
  ge: o.geOp,
  where: o.whereOp,
  // reductions
  sum: o.sumOp,
  max: o.maxOp,
  min: o.minOp,
  argmax: o.argmaxOp,
  argmin: o.argminOp,
  mean: o.meanOp,
  logsumexp: o.logsumexpOp,
  variance: o.varianceOp,
  // linear algebra
  matmul: o.matmulOp,
  // views and copies
  view: o.viewOp,
  permute: o.permuteOp,
  slice: o.sliceOp,
  expand: o.expandOp,
  squeeze: o.squeezeOp,
  unsqueeze: o.unsqueezeOp,
  detach: o.detachOp,
  copy: o.copyOp,
  cast: o.castOp,
  // indexing
  gather: o.gatherOp,
  scatterAdd: o.scatterAddOp,
  indexSelect: o.indexSelectOp,
  concat: o.concatOp,
  pad: o.padOp,
  oneHot: o.oneHotOp,
  tril: o.trilOp,
  triu: o.triuOp,
  // composites of the model path
  softmax: o.softmaxOp,
  logSoftmax: o.logSoftmaxOp,
  layerNorm: o.layerNormOp,
  rmsNorm: o.rmsNormOp,
  rotary: o.rotaryOp,
  attention: o.attentionOp,
  attentionForward: o.attentionForwardOp,
  attentionGradQ: o.attentionGradQOp,
  attentionGradKV: o.attentionGradKVOp,
  crossEntropy: o.crossEntropyOp,
  crossEntropyLosses: o.crossEntropyLossesOp,
  dropout: o.dropoutOp,
  // gradients of the composites, themselves composites a backend may fuse
  softmaxBackward: o.softmaxBackwardOp,
  logSoftmaxBackward: o.logSoftmaxBackwardOp,
  layerNormBackward: o.layerNormBackwardOp,
  rmsNormBackward: o.rmsNormBackwardOp,
  rotaryBackward: o.rotaryBackwardOp,
  crossEntropyBackward: o.crossEntropyBackwardOp,
  // quantised weights
  nf4Dequantize: o.nf4DequantizeOp,
  nf4Matmul: o.nf4MatmulOp,
} as const satisfies Record<string, OpDef>;

/** Every op definition. */
export function listOps(): OpDef[] {
  return Object.values(OPS);
}

/** The primitives: what every kernels package must implement. */
export function listPrimitives(): OpDef[] {
  return listOps().filter((op) => op.kind === 'primitive');
}
