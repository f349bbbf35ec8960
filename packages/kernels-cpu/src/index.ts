/**
 * @tessera/kernels-cpu — every primitive op of @tessera/tensor on the CPU: strided reference loops
 * sharing one index walker, table-driven elementwise ops, and a cache-blocked matmul.
 */
export { cpuGemmVariant, cpuThreadJobs, createCpuBackend, whenCpuThreadsReady, type CpuBackendOptions } from './cpu-backend.js';
export type { GemmVariant } from './wasm/gemm-module.js';
export { CPU_KERNELS } from './registry.js';
export type { CpuKernel } from './cpu-kernel.js';
export { matmulKernel, matmulReference } from './kernels/matmul.js';
export { gemm, type MatrixOperand } from './gemm.js';
export { erf } from './erf.js';
