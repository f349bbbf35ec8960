// Out-of-range indices on WebGPU. A shader cannot throw, so gather and scatterAdd clamp their
// indices (memory stays safe) and each records a small check dispatch over its index tensor that
// writes the first bad position and value into a per-device error record. Nothing waits for it: the
// record is copied back alongside the next read (in the same submit, mapped concurrently) or sync,
// and a bad index is raised there as the CPU backend would have raised it, naming the op, the value,
// its position, the axis size and the fix. The check is its own dispatch rather than part of the
// kernels so it needs no second writable binding and serves both ops with one pipeline.
import { fmtShape, type DType, type Shape, type TensorView } from '@tessera/tensor';
import { type GpuContext, PARAM_WORDS } from './gpu-context.js';
import { BindingLimitError, bindingLimitMessage, elementShift, elementsPerBinding, PIECE, planRanges, rangeSpan, windowOf } from './binding-window.js';
import { bufferOf } from './map-dispatch.js';
import { computeType, loadFunction } from './wgsl/dtype-io.js';
import { extraBase, INDEXING, operandBase, writeLayout } from './wgsl/indexing.js';

/** What the host needs to turn a recorded failure into a message. */
interface CheckRecord {
  readonly op: string;
  readonly indexShape: Shape;
  /** The index shape with broadcast dims cut to 1: what the check walked. */
  readonly checkShape: Shape;
  readonly axis: number;
  readonly size: number;
  readonly dtype: DType;
}

// Error record words: [0] id of the first failing check (0: none), [1] its flat position in the
// check's shape, [2] the index value's bits.
const RECORD_BYTES = 16;
const CHECK_WORKGROUP = 256;
const NONE = 0xffffffff;
const E = extraBase(1);

// One workgroup scans the whole index (strided by invocation, stopping at its first bad element) and
// reduces to the smallest bad position, so the reported position and value belong together and the
// record needs no atomics. Broadcast (stride-0) dims are dropped before dispatch, so an embedding
// lookup checks one index per token, not one per output element.
function checkSource(dtype: DType): string {
  const ct = computeType(dtype);
  const bad = ct === 'i32' ? 'k < 0 || u32(k) >= size' : 'k >= size';
  return `${INDEXING}
@group(0) @binding(1) var<storage, read> b0: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
${loadFunction('in0', 'b0', dtype)}
var<workgroup> firstBad: array<u32, ${CHECK_WORKGROUP}>;
@compute @workgroup_size(${CHECK_WORKGROUP}) fn main(@builtin(local_invocation_index) lidx: u32) {
  let n = p(0u);
  let size = p(${E}u);
  var found = ${NONE}u;
  // One piece of the index per dispatch when it is larger than a binding (binding-window.ts).
  let end = min(n, p(${PIECE.start}u) + p(${PIECE.count}u));
  for (var e = p(${PIECE.start}u) + lidx; e < end && found == ${NONE}u; e += ${CHECK_WORKGROUP}u) {
    let k = in0(offset_of(${operandBase(0)}u, e));
    if (${bad}) { found = e; }
  }
  firstBad[lidx] = found;
  workgroupBarrier();
  for (var s = ${CHECK_WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lidx < s) { firstBad[lidx] = min(firstBad[lidx], firstBad[lidx + s]); }
    workgroupBarrier();
  }
  // Only the first failure since the last read is kept: later results are built on it anyway.
  if (lidx == 0u && firstBad[0] != ${NONE}u && out[0] == 0u) {
    out[0] = p(${E + 1}u);
    out[1] = firstBad[0];
    out[2] = bitcast<u32>(in0(offset_of(${operandBase(0)}u, firstBad[0])));
  }
}
`;
}

/** The per-device error record and the checks recorded since it was last read. */
class IndexBounds {
  readonly #record: GPUBuffer;
  readonly #zeros: GPUBuffer;
  #pending = new Map<number, CheckRecord>();
  #nextId = 1;

  constructor(private readonly ctx: GpuContext) {
    // Outside the storage pool so memory() keeps counting only tensors; WebGPU zero-fills new buffers.
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.#record = ctx.device.createBuffer({ size: RECORD_BYTES, usage, label: 'index-bounds record' });
    this.#zeros = ctx.device.createBuffer({ size: RECORD_BYTES, usage, label: 'index-bounds zeros' });
  }

  /** Records the check of `index` against an axis of `size` for `op`. */
  check(op: string, index: TensorView, axis: number, size: number): void {
    // Positions along broadcast dims all hold the same index: check only the first of each.
    const shape = index.shape.map((d, i) => (index.strides[i] === 0 ? Math.min(d, 1) : d));
    const n = shape.reduce((a, b) => a * b, 1);
    if (n === 0) return;
    const id = this.#nextId++;
    this.#pending.set(id, { op, indexShape: index.shape, checkShape: shape, axis, size, dtype: index.dtype });
    const params = new Uint32Array(PARAM_WORDS);
    writeLayout(params, shape, [{ offset: index.offset, strides: index.strides }], op);
    params[E] = size;
    params[E + 1] = id;
    const pipeline = this.ctx.pipelines.get(`indexBounds:${index.dtype}`, 1, () => checkSource(index.dtype));
    const buffer = bufferOf(index);
    const pieces = planRanges(n, 1, elementsPerBinding(this.ctx, index.dtype), (e0, e1) => windowOf(this.ctx, buffer, index.dtype, ...rangeSpan(shape, index.strides, index.offset, e0, e1)) !== null);
    if (!pieces) throw new BindingLimitError(bindingLimitMessage(op, `its index [${index.shape.join(',')}] ${index.dtype}`, buffer.size, this.ctx));
    for (const [e0, e1] of pieces) {
      const window = windowOf(this.ctx, buffer, index.dtype, ...rangeSpan(shape, index.strides, index.offset, e0, e1))!;
      const p = params.slice();
      p[operandBase(0)] = (index.offset - elementShift(window, index.dtype)) >>> 0;
      p[PIECE.start] = e0;
      p[PIECE.count] = e1 - e0;
      this.ctx.dispatch(pipeline, [window], this.#record, p, 1);
    }
  }

  /**
   * Records a copy of the error record (and its reset) into the open batch when checks are pending.
   * Call it before the read or sync that submits the batch; await the returned function after.
   */
  capture(): (() => Promise<void>) | null {
    if (this.#pending.size === 0) return null;
    const covered = this.#pending;
    this.#pending = new Map();
    const staging = this.ctx.device.createBuffer({ size: RECORD_BYTES, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.ctx.copy(this.#record, 0, staging, 0, RECORD_BYTES);
    this.ctx.copy(this.#zeros, 0, this.#record, 0, RECORD_BYTES);
    return async () => {
      this.ctx.flush();
      await staging.mapAsync(GPUMapMode.READ);
      const [id, pos, bits] = new Uint32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      staging.destroy();
      if (id === 0) return;
      const failed = covered.get(id!);
      if (!failed) throw new Error(`webgpu: an index check reported unknown check ${id}; this is a bug in @tessera/kernels-webgpu`);
      throw outOfRange(failed, pos!, bits!);
    };
  }
}

const contexts = new WeakMap<GpuContext, IndexBounds>();

function boundsOf(ctx: GpuContext): IndexBounds {
  let b = contexts.get(ctx);
  if (!b) contexts.set(ctx, (b = new IndexBounds(ctx)));
  return b;
}

/** Records a check that every element of `index` lies in [0, size); a failure is raised at the next read or sync. */
export function checkIndexBounds(ctx: GpuContext, op: string, index: TensorView, axis: number, size: number): void {
  boundsOf(ctx).check(op, index, axis, size);
}

/** Starts collecting the index checks recorded so far; call before the submit, await the result after it. */
export function captureIndexErrors(ctx: GpuContext): (() => Promise<void>) | null {
  return contexts.get(ctx)?.capture() ?? null;
}

function outOfRange({ op, indexShape, checkShape, axis, size, dtype }: CheckRecord, pos: number, bits: number): RangeError {
  const value = dtype === 'i32' ? bits | 0 : bits >>> 0;
  // pos counts over the check shape; along broadcast dims (cut to 1) the first bad position has coordinate 0.
  const coords = new Array<number>(checkShape.length).fill(0);
  let rem = pos;
  for (let d = checkShape.length - 1; d >= 0; d--) {
    coords[d] = rem % checkShape[d]!;
    rem = Math.floor(rem / checkShape[d]!);
  }
  const hint = value < 0 ? '; negative indices are not allowed' : '';
  return new RangeError(
    `${op}: index ${value} at position ${fmtShape(coords)} of the index ${fmtShape(indexShape)} is out of range for axis ${axis} of size ${size}; ` +
      `expected 0 <= index < ${size}${hint}. (webgpu: the kernel ran with the index clamped and reported it at this read or sync; ` +
      `results computed from it since are not valid)`,
  );
}
