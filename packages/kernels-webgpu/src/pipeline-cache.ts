// Compiling a pipeline costs milliseconds on a GPU and far more on lavapipe; each distinct shader
// source is compiled once. Keys name the kernel and its specialisation (dtypes, tile sizes), and
// shapes travel as uniforms, so one pipeline serves every shape.

/** Compiled compute pipelines keyed by kernel + specialisation. */
export class PipelineCache {
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  readonly #layouts = new Map<number, GPUBindGroupLayout>();

  constructor(private readonly device: GPUDevice) {}

  /** The bind group layout: binding 0 the uniform parameters, then `reads` read-only buffers, then one read-write buffer. */
  layout(reads: number): GPUBindGroupLayout {
    let layout = this.#layouts.get(reads);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: false } },
      ];
      for (let i = 0; i < reads; i++) entries.push({ binding: i + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } });
      entries.push({ binding: reads + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } });
      layout = this.device.createBindGroupLayout({ entries });
      this.#layouts.set(reads, layout);
    }
    return layout;
  }

  /** The pipeline for `key`, compiling `source()` on first use. */
  get(key: string, reads: number, source: () => string): GPUComputePipeline {
    let pipeline = this.#pipelines.get(key);
    if (!pipeline) {
      const code = source();
      const module = this.device.createShaderModule({ code, label: key });
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.layout(reads)] }),
        compute: { module, entryPoint: 'main' },
      });
      this.#pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** Number of compiled pipelines. */
  get size(): number {
    return this.#pipelines.size;
  }
}
