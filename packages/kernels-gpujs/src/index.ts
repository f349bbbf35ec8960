/**
 * @tessera/kernels-gpujs — every primitive op of @tessera/tensor as gpu.js kernels: the WebGL
 * fallback for browsers without WebGPU (and gpu.js's cpu and WebGPU modes in Node).
 * Register explicitly: `registerBackend(await createGpuJsBackend())`.
 */
export { createGpuJsBackend, type GpuJsBackend, type GpuJsBackendOptions } from './gpujs-backend.js';
export { GpuJsContext, type GpuJsMode, type Handle } from './gpujs-context.js';
export { GPUJS_KERNELS } from './registry.js';
export type { GpuJsKernel } from './gpujs-kernel.js';
export { GpuJsUnsupportedError, MAX_RANK } from './kernel-source.js';
export { provideNavigatorGpu } from './node-webgpu.js';
