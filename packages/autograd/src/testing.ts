/**
 * @tessera/autograd/testing — gradcheck against central finite differences and fast-check
 * arbitraries (shapes, broadcast pairs, axes, tensors, attention problems) for every package's property tests,
 * and the cross-backend comparison, per-primitive property table, index-bounds cases and special-value checks the kernels packages share.
 */
export * from './arbitraries.js';
export { CROSS_BACKEND_TOLERANCE, draw, expectSame, layoutArb, makeView, rng, sameOnBoth, viewShapeArb, type Layout, type ValueKind } from './cross-backend.js';
export { buildIndexCase, cpuError, indexCaseArb, indexView, type IndexCase, type IndexLayout } from './index-cases.js';
export { primitiveProperties, type PrimitivePropertyOptions } from './primitive-properties.js';
export { specialValueChecks, type SpecialValueCheck, type SpecialValueOptions } from './special-values.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck.js';
