// gpu.js's WebGPU mode looks for navigator.gpu, which Node 20 lacks; the `webgpu` package (Dawn) gives
// one. Imported dynamically so browser bundles never load it (mark `webgpu` external there).

/** Provides `navigator.gpu` (and the WebGPU globals) from the `webgpu` package where none exists. */
export async function provideNavigatorGpu(): Promise<void> {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu) return;
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  if (g.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  g.navigator!.gpu = create([]);
}
