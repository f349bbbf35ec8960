/**
 * @tessera/optim — AdamW and SGD with parameter groups, learning-rate schedules with warmup,
 * global-norm clipping, token-normalised gradient accumulation and state for exact resume.
 */
export { AdamW, type AdamWOptions } from './adamw.js';
export { clipGradNorm } from './clip-grad-norm.js';
export { Optimizer, type OptimizerState } from './optimizer.js';
export { decays, defaultParamGroups, type ParamGroup } from './param-groups.js';
export { LRScheduler, constantSchedule, cosineSchedule, linearSchedule, type Schedule } from './schedules.js';
export { SGD, type SGDOptions } from './sgd.js';
export { TokenAccumulator } from './token-accumulator.js';
