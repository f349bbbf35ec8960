/**
 * @tessera/autograd/testing — gradcheck against central finite differences and fast-check
 * arbitraries (shapes, broadcast pairs, axes, tensors, attention problems) for every package's property tests.
 */
export * from './arbitraries.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck.js';
