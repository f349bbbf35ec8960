/**
 * @tessera/kernels-webgpu — every primitive op of @tessera/tensor in WGSL: generated strided
 * elementwise/broadcast/reduction shaders, a tiled matmul, pooled buffers and cached pipelines.
 * Register explicitly: `registerBackend(await createWebGpuBackend())`.
 */
export { createWebGpuBackend, type WebGpuBackend, type WebGpuBackendOptions } from './webgpu-backend.js';
export { acquireDevice, type AcquiredDevice, type AdapterInfo, type DeviceOptions } from './device.js';
export { GpuContext } from './gpu-context.js';
export { WEBGPU_KERNELS } from './registry.js';
export type { GpuKernel } from './gpu-kernel.js';
export { BindingLimitError } from './binding-window.js';
