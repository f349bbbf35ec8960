/**
 * @tessera/tensor — dtypes, shapes and strided views, the op set (each op defined once with its
 * gradient rule), the backend and kernel registry, memory scopes and a seeded counter-based RNG.
 */
export * from './backend.js';
export * from './dtype.js';
export { formatTensor } from './format.js';
export { isGradEnabled, withGradMode, type GradNode } from './grad-mode.js';
export { dispose, keep, memory, memoryScope, resetPeakMemory, tidy, type MemoryInfo } from './memory.js';
export { apply, defineOp, describe, type CompositeDef, type OpDef, type PrimitiveDef, type ViewDef, type VjpContext, type VjpRule } from './op.js';
export * from './ops/index.js';
export * from './random.js';
export { OPS, listOps, listPrimitives } from './registry.js';
export * from './shape.js';
export { Tensor, isTensor, type DataOf, type NestedArray } from './tensor.js';
