// GPU buffers are slow to create and invisible to the garbage collector, so freed ones are kept in
// size buckets and handed out again. Buckets grow by quarters of a power of two: at most 25% waste,
// yet the many slightly different sizes of a training step still share buffers.

/** Rounds a byte size up to its bucket (>= 16 bytes, multiple of 16). */
export function bucketSize(bytes: number): number {
  const n = Math.max(16, bytes);
  const p = 2 ** Math.floor(Math.log2(n));
  const quarter = Math.max(16, p / 4);
  return Math.ceil(n / quarter) * quarter;
}

/** A size-bucketed pool of GPU buffers of one usage. */
export class BufferPool {
  readonly #free = new Map<number, GPUBuffer[]>();
  #pooledBytes = 0;
  #liveBytes = 0;

  /** `cap`: a buffer of at most `cap` bytes is never rounded up past it (a binding limit must keep fitting). */
  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    private readonly cap = Infinity,
  ) {}

  /** A buffer of at least `bytes` bytes (contents undefined). */
  acquire(bytes: number): GPUBuffer {
    let size = bucketSize(bytes);
    if (size > this.cap && bytes <= this.cap) size = Math.min(this.cap, Math.ceil(bytes / 16) * 16);
    const list = this.#free.get(size);
    const reused = list?.pop();
    this.#liveBytes += size;
    if (reused) {
      this.#pooledBytes -= size;
      return reused;
    }
    return this.device.createBuffer({ size, usage: this.usage });
  }

  /** Returns a buffer to the pool; the caller guarantees no unsubmitted command still uses it. */
  release(buffer: GPUBuffer): void {
    const size = buffer.size;
    this.#liveBytes -= size;
    this.#pooledBytes += size;
    const list = this.#free.get(size);
    if (list) list.push(buffer);
    else this.#free.set(size, [buffer]);
  }

  /** Destroys every pooled buffer (live ones are untouched). */
  trim(): void {
    for (const list of this.#free.values()) for (const b of list) b.destroy();
    this.#free.clear();
    this.#pooledBytes = 0;
  }

  /** Bytes held in the pool and bytes handed out. */
  stats(): { pooledBytes: number; liveBytes: number } {
    return { pooledBytes: this.#pooledBytes, liveBytes: this.#liveBytes };
  }
}
