// The command stream of one device. Dispatches are recorded into one open compute pass and submitted
// together (on a read, a sync, or every MAX_BATCH dispatches), so a training step costs a handful of
// submits. Each dispatch's uniform parameters go into one slot of a per-batch uniform buffer that is
// written once, right before the submit. Buffers freed while a batch is open are returned to the pool
// only after that batch is submitted: a later writeBuffer on a reused buffer must never overtake a
// command that still reads it.
import { BindingLimitError, bindingLimitMessage, isWindow, type Binding, type WindowLimits } from './binding-window.js';
import { BufferPool } from './buffer-pool.js';
import { PipelineCache } from './pipeline-cache.js';

/** u32 words of uniform parameters each dispatch may use. */
export const PARAM_WORDS = 128;
const SLOT_BYTES = PARAM_WORDS * 4; // a multiple of every adapter's minUniformBufferOffsetAlignment (<= 256)
/** Dispatches recorded before a batch is submitted even without a read (bounds the uniform buffer). */
export const MAX_BATCH = 128;
/** Invocations per workgroup of the 1-D kernels. */
export const WORKGROUP = 64;

/** The device, its pools and caches, and the open batch of recorded dispatches. */
export class GpuContext implements WindowLimits {
  readonly storagePool: BufferPool;
  readonly pipelines: PipelineCache;
  /** Largest binding any kernel may make: the device's maxStorageBufferBindingSize, or a lower `bindingLimitBytes`. */
  readonly maxBindingBytes: number;
  /** Largest buffer the device creates. */
  readonly maxBufferBytes: number;
  /** Window offsets are multiples of this (minStorageBufferOffsetAlignment). */
  readonly offsetAlignment: number;
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #params = new Uint32Array(PARAM_WORDS * MAX_BATCH);
  #slots = 0;
  #uniform: GPUBuffer | null = null;
  readonly #uniformPool: BufferPool;
  #pendingFree: GPUBuffer[] = [];
  #lost: string | null = null;
  #error: string | null = null;
  /** Dispatches, buffer copies and submits so far (benchmarks and tests read them). */
  readonly counters = { dispatches: 0, copies: 0, submits: 0 };

  /**
   * `bindingLimitBytes` caps bindings below the device's limit: WebGPU will not grant a limit below its
   * default (128 MiB), so tests lower it here to exercise binding windows on small tensors.
   */
  constructor(readonly device: GPUDevice, readonly adapterName: string, readonly features: ReadonlySet<string>, bindingLimitBytes?: number) {
    this.offsetAlignment = device.limits.minStorageBufferOffsetAlignment;
    this.maxBufferBytes = device.limits.maxBufferSize;
    const deviceLimit = device.limits.maxStorageBufferBindingSize;
    if (bindingLimitBytes !== undefined && !(Number.isInteger(bindingLimitBytes) && bindingLimitBytes % 4 === 0 && bindingLimitBytes >= 16 * this.offsetAlignment)) {
      throw new RangeError(`webgpu: bindingLimitBytes ${bindingLimitBytes} must be a multiple of 4 and at least ${16 * this.offsetAlignment} (16 × minStorageBufferOffsetAlignment)`);
    }
    this.maxBindingBytes = Math.min(deviceLimit, bindingLimitBytes ?? deviceLimit);
    // Pool buckets never round a buffer that fits one binding up past it.
    this.storagePool = new BufferPool(device, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, this.maxBindingBytes);
    this.#uniformPool = new BufferPool(device, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.pipelines = new PipelineCache(device);
    void device.lost.then((info) => {
      this.#lost = `${info.reason}: ${info.message}`;
    });
    device.addEventListener?.('uncapturederror', (ev) => {
      this.#error ??= (ev as GPUUncapturedErrorEvent).error.message;
    });
  }

  /** Throws when the device was lost or a command failed validation, instead of hanging or returning garbage. */
  check(where: string): void {
    if (this.#lost !== null) throw new Error(`webgpu: ${where}: the device was lost (${this.#lost}); create a new backend`);
    if (this.#error !== null) {
      const msg = this.#error;
      this.#error = null;
      throw new Error(`webgpu: ${where}: a GPU command failed: ${msg}`);
    }
  }

  /** A storage buffer of at least `bytes` bytes (at least 4). */
  acquire(bytes: number): GPUBuffer {
    if (bytes > this.maxBufferBytes) {
      throw new RangeError(`webgpu: a buffer of ${bytes} bytes exceeds the device's maxBufferSize of ${this.maxBufferBytes}; split the tensor into smaller ones (e.g. shard the embedding table by rows)`);
    }
    return this.storagePool.acquire(Math.max(4, bytes));
  }

  /** Frees a storage buffer once the commands recorded so far no longer need it. */
  release(buffer: GPUBuffer): void {
    if (this.#encoder) this.#pendingFree.push(buffer);
    else this.storagePool.release(buffer);
  }

  /**
   * Records one dispatch: `reads` are bound read-only (bindings 1..n), `write` read-write (binding n+1),
   * `params` fill the uniform slot (binding 0). `groups` is a count of workgroups, spread over x and y.
   * A binding is a whole buffer or a window of one (binding-window.ts); a whole buffer over the binding
   * limit is refused here with a BindingLimitError rather than left to fail WebGPU validation.
   */
  dispatch(pipeline: GPUComputePipeline, reads: readonly Binding[], write: Binding, params: Uint32Array, groups: number | [number, number, number]): void {
    if (this.#lost !== null) this.check('dispatch');
    [...reads, write].forEach((b, i) => {
      const bytes = b.size;
      if (bytes <= this.maxBindingBytes && (!isWindow(b) || b.offset % this.offsetAlignment === 0)) return;
      const what = i === reads.length ? 'its output' : `its input ${i}`;
      throw new BindingLimitError(bindingLimitMessage(`webgpu: ${pipeline.label || 'kernel'}`, what, bytes, this));
    });
    if (this.#slots === MAX_BATCH) this.flush();
    if (!this.#encoder) {
      this.#encoder = this.device.createCommandEncoder();
      this.#uniform = this.#uniformPool.acquire(SLOT_BYTES * MAX_BATCH);
    }
    this.#pass ??= this.#encoder.beginComputePass();
    const slot = this.#slots++;
    this.#params.set(params.subarray(0, PARAM_WORDS), slot * PARAM_WORDS);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.#uniform!, offset: slot * SLOT_BYTES, size: SLOT_BYTES } }];
    [...reads, write].forEach((b, i) => entries.push({ binding: i + 1, resource: isWindow(b) ? { buffer: b.buffer, offset: b.offset, size: b.size } : { buffer: b } }));
    const bindGroup = this.device.createBindGroup({ layout: this.pipelines.layout(reads.length), entries });
    this.#pass.setPipeline(pipeline);
    this.#pass.setBindGroup(0, bindGroup);
    const [x, y, z] = typeof groups === 'number' ? spread(groups) : groups;
    this.#pass.dispatchWorkgroups(x, y, z);
    this.counters.dispatches++;
  }

  /** Records a buffer copy (ends the open compute pass). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.#pass?.end();
    this.#pass = null;
    if (!this.#encoder) {
      this.#encoder = this.device.createCommandEncoder();
      this.#uniform = this.#uniformPool.acquire(SLOT_BYTES * MAX_BATCH);
    }
    this.#encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.counters.copies++;
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.#encoder) return;
    this.#pass?.end();
    this.#pass = null;
    if (this.#slots > 0) this.device.queue.writeBuffer(this.#uniform!, 0, this.#params, 0, this.#slots * PARAM_WORDS);
    this.device.queue.submit([this.#encoder.finish()]);
    this.counters.submits++;
    this.#encoder = null;
    this.#slots = 0;
    // Later queue operations run after this submit, so these buffers are safe to reuse now.
    this.#uniformPool.release(this.#uniform!);
    this.#uniform = null;
    for (const b of this.#pendingFree) this.storagePool.release(b);
    this.#pendingFree = [];
  }

  /** Copies `bytes` bytes of a buffer back to the host. */
  async read(buffer: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    this.check('read');
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.copy(buffer, offset, staging, 0, size);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (err) {
      this.check('read');
      throw new Error(`webgpu: read: mapping the result failed (${(err as Error).message})`);
    }
    const out = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    staging.destroy();
    this.check('read');
    return out;
  }

  /** Resolves when all submitted work has finished. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.check('sync');
  }

  /** Pooled and live bytes of storage buffers. */
  memory(): { pooledBytes: number; liveBytes: number } {
    return this.storagePool.stats();
  }
}

/** Splits a workgroup count over x and y so no dimension exceeds 65535. */
function spread(groups: number): [number, number, number] {
  if (groups <= 65535) return [groups, 1, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y, 1];
}
