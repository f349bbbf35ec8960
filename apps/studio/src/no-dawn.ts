// Stands in for the `webgpu` npm package (Dawn's Node binding) in the browser build: a page has
// navigator.gpu or no WebGPU at all, and the studio then trains on the CPU backend.
export function create(): never {
  throw new Error('WebGPU: this browser exposes no navigator.gpu (Dawn is for Node only); the studio trains on the CPU backend instead');
}
export const globals = {};
