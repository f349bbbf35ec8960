// The runtime under the gpu.js backend: one `GPU` instance, a cache of compiled kernels keyed by
// their source, and the handles storages hold. Every storage is a flat run of f32 values (a gpu.js
// pipeline Texture on WebGL, a WebGPUBufferResult on WebGPU, a Float32Array in cpu/webasm mode),
// whatever the tensor's dtype: gpu.js kernels compute only in single-precision floats.
import { GPU, HeadlessGLKernel, WebGL2Kernel, WebGLKernel, type IKernelRunShortcut } from 'gpu.js';
import { checkElementCount } from './exact-integers.js';

/** The gpu.js modes this backend drives. `gpu` lets gpu.js pick (WebGL2 → WebGL in browsers). */
export type GpuJsMode = 'cpu' | 'webasm' | 'webgpu' | 'webgl' | 'webgl2' | 'gpu';

/** A GPU-resident result of a gpu.js kernel: a Texture or WebGPUBufferResult (both have toArray/delete). */
interface DeviceResult {
  toArray(): unknown;
  delete(): void;
}

/** What a kernel receives or returns: host values (cpu/webasm) or a device result. */
export type GpuJsValue = Float32Array | DeviceResult;

/**
 * What a storage holds. Synchronous modes fill `value` at once; WebGPU mode (every gpu.js call
 * returns a Promise there) fills `promise` and, once it settles, `value`.
 */
export interface Handle {
  value: GpuJsValue | null;
  promise: Promise<GpuJsValue> | null;
  readonly size: number;
  freed: boolean;
}

/** One kernel launch: the kernel's source (its cache key), the output length and its arguments. */
export interface Launch {
  readonly source: string;
  readonly size: number;
  /** Storage handles (device values) or host arrays (small index/parameter tables, uploaded per call). */
  readonly args: readonly (Handle | Float32Array)[];
  /** The element count the handle reports when it differs from the values computed (empty tensors). */
  readonly logicalSize?: number;
  /**
   * 'Array(4)': each thread returns four values (a vec4 texture on WebGL; only another kernel reads it,
   * and gpu.js's WebGPU mode cannot take such a result as an argument). 'Number' for a kernel that
   * reads such a texture (gpu.js would infer a vec4 return from it). Default: gpu.js infers it.
   */
  readonly returns?: 'Array(4)' | 'Number';
}

/** The largest loop any kernel runs (gpu.js bounds every loop; GLSL needs a constant bound). */
export const LOOP_MAX = 1 << 24;

/** Runs gpu.js kernels for the backend and tracks the memory its handles hold. */
export class GpuJsContext {
  readonly gpu: GPU;
  readonly mode: GpuJsMode;
  /** The mode gpu.js actually runs kernels in (`gpu` resolves to webgl2/webgl/...). */
  actualMode = '';
  readonly kernels = new Map<string, IKernelRunShortcut>();
  readonly counters = { launches: 0, compiled: 0, liveHandles: 0, liveBytes: 0 };
  /** WebGPU: launches run one after another on this chain (a kernel's dynamic output is set per call). */
  private tail: Promise<unknown> = Promise.resolve();

  /** The texture precision kernels ask gpu.js for ('single'; 'unsigned' only to exercise the refusal). */
  readonly precision: 'single' | 'unsigned';

  constructor(mode: GpuJsMode, precision: 'single' | 'unsigned' = 'single') {
    this.mode = mode;
    this.precision = precision;
    this.gpu = new GPU({ mode });
  }

  /** True where gpu.js kernel calls return Promises (WebGPU). */
  get isAsync(): boolean {
    return this.mode === 'webgpu';
  }

  /** A handle holding host values already (uploads in cpu/webasm mode, empty tensors). */
  hostHandle(values: Float32Array): Handle {
    return this.track({ value: values, promise: null, size: values.length, freed: false });
  }

  /**
   * A handle of no elements. On a device it still holds one value: gpu.js cannot take an empty
   * argument, and a kernel argument that switched between host arrays and device results would
   * recompile (on WebGPU, against a different context).
   */
  emptyHandle(): Handle {
    if (this.mode === 'cpu' || this.mode === 'webasm') return this.hostHandle(new Float32Array(0));
    return this.run({ source: UPLOAD_SOURCE, size: 1, args: [new Float32Array(1)], logicalSize: 0 });
  }

  /** Places host values on the device (an identity kernel in pipeline mode makes the texture/buffer). */
  upload(values: Float32Array): Handle {
    checkElementCount('upload: the tensor', values.length);
    if (values.length === 0) return this.emptyHandle();
    if (this.mode === 'cpu' || this.mode === 'webasm') return this.hostHandle(values);
    return this.run({ source: UPLOAD_SOURCE, size: values.length, args: [values] });
  }

  /** Launches a kernel producing `size` f32 values; returns at once (the work may still be queued). */
  run(launch: Launch): Handle {
    // Before anything is compiled or allocated: over 2^24 elements the f32 index math is inexact.
    checkElementCount('the output', launch.size);
    for (const a of launch.args) checkElementCount('an input', a instanceof Float32Array ? a.length : a.size);
    if (launch.size === 0) return this.emptyHandle();
    const kernel = this.kernelFor(launch.source, launch.returns);
    this.counters.launches++;
    for (const a of launch.args) if (!(a instanceof Float32Array) && a.freed) throw new Error('gpujs: a kernel input was already freed (a disposed tensor was used)');
    if (!this.isAsync && launch.args.every((a) => a instanceof Float32Array || a.value !== null)) {
      kernel.setOutput([launch.size]);
      const value = kernel(...launch.args.map((a) => nonEmpty(a instanceof Float32Array ? a : a.value!)) as never[]) as unknown as GpuJsValue;
      if (this.actualMode === '') this.actualMode = modeOf(kernel);
      return this.track({ value: asValue(value), promise: null, size: launch.logicalSize ?? launch.size, freed: false });
    }
    const handle: Handle = { value: null, promise: null, size: launch.logicalSize ?? launch.size, freed: false };
    const promise = this.tail.then(async () => {
      const args = (await Promise.all(launch.args.map((a) => (a instanceof Float32Array ? a : valueOf(a))))).map(nonEmpty);
      kernel.setOutput([launch.size]);
      const value = asValue(await (kernel(...(args as never[])) as unknown as Promise<GpuJsValue>));
      if (this.actualMode === '') this.actualMode = modeOf(kernel);
      handle.value = value;
      return value;
    });
    // A failed launch fails its readers, not the launches queued after it.
    this.tail = promise.catch(() => undefined);
    handle.promise = promise;
    return this.track(handle);
  }

  /** The values of a handle, copied to a fresh Float32Array. */
  async read(handle: Handle): Promise<Float32Array> {
    const value = await valueOf(handle);
    if (value instanceof Float32Array) return value.slice();
    return flatten(await value.toArray(), handle.size);
  }

  /**
   * Releases a handle's texture/buffer. In WebGPU mode launches queued before this call may still
   * read it, so the release waits its turn on the launch chain.
   */
  free(handle: Handle): void {
    if (handle.freed) return;
    handle.freed = true;
    this.counters.liveHandles--;
    this.counters.liveBytes -= handle.size * 4;
    if (!this.isAsync) {
      void release(handle);
      return;
    }
    const released = this.tail.then(() => release(handle));
    this.tail = released.catch(() => undefined);
  }

  /** Resolves when every queued launch has run. */
  async sync(): Promise<void> {
    await this.tail;
  }

  /** Destroys every compiled kernel and the GPU instance. */
  destroy(): void {
    this.gpu.destroy();
    this.kernels.clear();
  }

  private kernelFor(source: string, returns?: 'Array(4)' | 'Number'): IKernelRunShortcut {
    let kernel = this.kernels.get(source);
    if (kernel === undefined) {
      kernel = this.gpu.createKernel(source, {
        ...(returns === undefined ? {} : { returnType: returns }),
        output: [1],
        pipeline: true,
        immutable: true,
        dynamicOutput: true,
        dynamicArguments: true,
        precision: this.precision,
        tactic: 'precision',
        loopMaxIterations: LOOP_MAX,
      } as never);
      this.kernels.set(source, kernel);
      this.counters.compiled++;
    }
    return kernel;
  }

  private track(handle: Handle): Handle {
    this.counters.liveHandles++;
    this.counters.liveBytes += handle.size * 4;
    return handle;
  }
}

/** The identity kernel that turns host values into a device-resident result. */
const UPLOAD_SOURCE = 'function(a) { return a[this.thread.x]; }';

/** The back end a compiled kernel runs on (the GL kernels all call their mode 'gpu'; the others name theirs). */
function modeOf(kernel: IKernelRunShortcut): string {
  const k = (kernel as unknown as { kernel: object }).kernel;
  if (k instanceof WebGL2Kernel) return 'webgl2';
  if (k instanceof WebGLKernel) return 'webgl';
  if (k instanceof HeadlessGLKernel) return 'headlessgl';
  return String((k.constructor as { mode?: string }).mode ?? 'unknown');
}

/** gpu.js cannot take an empty argument; kernels never read an empty operand, so one zero stands in. */
function nonEmpty(v: GpuJsValue): GpuJsValue {
  return v instanceof Float32Array && v.length === 0 ? new Float32Array(1) : v;
}

/** Deletes a handle's device value (once its launch has produced it). */
async function release(handle: Handle): Promise<void> {
  const value = handle.value ?? (handle.promise === null ? null : await handle.promise.catch(() => null));
  handle.value = null;
  handle.promise = null;
  if (value !== null && !(value instanceof Float32Array)) value.delete();
}

async function valueOf(handle: Handle): Promise<GpuJsValue> {
  if (handle.value !== null) return handle.value;
  if (handle.promise === null) throw new Error(`gpujs: storage of ${handle.size} values was already freed`);
  return handle.promise;
}

function asValue(v: unknown): GpuJsValue {
  if (v instanceof Float32Array) return v;
  if (v !== null && typeof v === 'object' && 'delete' in v && 'toArray' in v) return v as DeviceResult;
  // cpu mode may hand back a plain array for some outputs.
  return Float32Array.from(v as ArrayLike<number>);
}

function flatten(values: unknown, size: number): Float32Array {
  if (values instanceof Float32Array) return values.length === size ? values : values.slice(0, size);
  return Float32Array.from(values as ArrayLike<number>).slice(0, size);
}
