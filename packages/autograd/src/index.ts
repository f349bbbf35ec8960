/**
 * @tessera/autograd — reverse-mode automatic differentiation over @tessera/tensor's op set:
 * backward, grad/valueAndGrad, noGrad and activation checkpointing.
 */
export { backward, zeroGrad } from './backward.js';
export { checkpoint, checkpointOp } from './checkpoint.js';
export { runBackward } from './engine.js';
export { enableGrad, grad, gradients, noGrad, valueAndGrad } from './grad.js';
export { sumToShape } from './sum-to-shape.js';
