// Multi-tensor AdamW (Backend.adamwUpdateMany), the WebGPU form of torch's fused/foreach AdamW.
// CUDA's multi_tensor_apply hands a kernel a table of tensor pointers; WebGPU has no pointers and
// binds a handful of buffers per dispatch, so the parameters are laid out in arenas instead (as
// FSDP's flat parameters or Apex's flat master weights): one dispatch per group of parameters whose
// arenas fit one binding, whatever the number of tensors in it.
//   pg  (read)   [params | grads], each section S elements, tensor t at start_t in both
//   mv  (read)   the moments: the previous step's output arena itself when every m and v of the group
//                lies there at this layout (the steady state: no copy), else a fresh [m | v] copy
//   out (write)  [params' | m' | v'], each section S elements
//   table (read) per chunk of CHUNK elements its tensor and first element; per tensor its start,
//                length and hyperparameter row; per distinct hyperparameters 8 f32 scalars
// Params and grads reach the arena by copyBufferToBuffer (copy commands, no dispatches); each new
// param is copied out into a buffer of its own, because a parameter tensor must own its whole
// storage (Tensor.assign swaps storages); m' and v' stay in the arena as views, where the next step
// finds them.
import type { AdamWOperands, TensorView } from '@tessera/tensor';
import { WORKGROUP, type GpuContext } from '../gpu-context.js';
import { bufferOf, f32Bits } from '../map-dispatch.js';
import { INDEXING } from '../wgsl/indexing.js';

/** Elements one workgroup updates: four per invocation, strided by the workgroup so loads coalesce. */
export const ADAMW_CHUNK = WORKGROUP * 4;

const SOURCE = `${INDEXING}
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(2) var<storage, read> pg: array<f32>;
@group(0) @binding(3) var<storage, read> mv: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
fn tf(i: u32) -> f32 { return bitcast<f32>(table[i]); }
@compute @workgroup_size(${WORKGROUP}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let chunk = wid.y * nwg.x + wid.x;
  if (chunk >= p(1u)) { return; }
  let s = p(0u);
  let t = p(2u) + 4u * table[2u * chunk];
  let first = table[2u * chunk + 1u];
  let start = table[t];
  let len = table[t + 1u];
  // Scalars are combined on the host in f64, as the composed adamwStep does, then rounded once.
  let h = p(3u) + 8u * table[t + 2u];
  let beta1 = tf(h); let oneMinusBeta1 = tf(h + 1u); let beta2 = tf(h + 2u); let oneMinusBeta2 = tf(h + 3u);
  let decay = tf(h + 4u); let sqrtBc2 = tf(h + 5u); let eps = tf(h + 6u); let stepSize = tf(h + 7u);
  let mBase = p(4u);
  let vBase = p(5u);
  for (var k = 0u; k < 4u; k++) {
    let j = first + k * ${WORKGROUP}u + lid.x;
    if (j >= len) { break; }
    let i = start + j;
    let g = pg[s + i];
    let m2 = mv[mBase + i] * beta1 + g * oneMinusBeta1;
    let v2 = mv[vBase + i] * beta2 + (g * g) * oneMinusBeta2;
    // Same order of operations as the composed adamwStep, so both round alike.
    let decayed = pg[i] * decay;
    let denom = sqrt(v2) / sqrtBc2 + eps;
    out[i] = decayed - (m2 / denom) * stepSize;
    out[s + i] = m2;
    out[2u * s + i] = v2;
  }
}`;

/** Where one parameter's update went: its own new param buffer, and m', v' at element offsets of the group's arena. */
export interface AdamWManyResult {
  param: GPUBuffer;
  arena: { buffer: GPUBuffer; size: number };
  m: number;
  v: number;
}

function sizeOf(t: TensorView): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

function contiguousF32(t: TensorView, n: number): boolean {
  if (t.dtype !== 'f32' || sizeOf(t) !== n) return false;
  let stride = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    if (t.shape[d] !== 1 && t.strides[d] !== stride) return false;
    stride *= t.shape[d]!;
  }
  return true;
}

function hyperWords(h: AdamWOperands['h']): number[] {
  return [h.beta1, 1 - h.beta1, h.beta2, 1 - h.beta2, 1 - h.lr * h.weightDecay, Math.sqrt(h.bc2), h.eps, h.lr / h.bc1].map(f32Bits);
}

/** Table words one more tensor of n elements adds at most (its chunks, its row, a new hyperparameter row). */
function tableWords(n: number): number {
  return 2 * Math.ceil(n / ADAMW_CHUNK) + 4 + 8;
}

/**
 * Groups the fusable items so each group's arenas (3 sections) and table fit one binding. Items that are
 * not contiguous f32, are empty, or alone exceed a group get no group (the caller updates them singly,
 * where the per-tensor kernel splits over binding windows).
 */
export function planAdamWGroups(limitBytes: number, items: readonly AdamWOperands[]): number[][] {
  const maxElements = Math.floor(limitBytes / 4 / 3);
  const maxWords = Math.floor(limitBytes / 4);
  const groups: number[][] = [];
  let current: number[] = [];
  let elements = 0;
  let words = 3;
  items.forEach((it, i) => {
    const n = sizeOf(it.param);
    if (n === 0 || n > maxElements || 3 + tableWords(n) > maxWords || ![it.param, it.grad, it.m, it.v].every((t) => contiguousF32(t, n))) return;
    if (elements + n > maxElements || words + tableWords(n) > maxWords) {
      groups.push(current);
      current = [];
      elements = 0;
      words = 3;
    }
    current.push(i);
    elements += n;
    words += tableWords(n);
  });
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Records the multi-tensor update: one dispatch per group (see planAdamWGroups); null for items left to the caller. */
export function adamwUpdateMany(ctx: GpuContext, items: readonly AdamWOperands[]): (AdamWManyResult | null)[] {
  const results: (AdamWManyResult | null)[] = items.map(() => null);
  const pipeline = ctx.pipelines.get('adamw-many', 3, () => SOURCE);
  for (const group of planAdamWGroups(ctx.maxBindingBytes, items)) {
    const starts: number[] = [];
    let s = 0;
    for (const i of group) {
      starts.push(s);
      s += sizeOf(items[i]!.param);
    }
    const table = buildTable(group.map((i) => items[i]!), starts);
    const tableBuffer = ctx.acquire(table.byteLength);
    ctx.device.queue.writeBuffer(tableBuffer, 0, table);
    const pg = ctx.acquire(2 * s * 4);
    group.forEach((i, k) => {
      const { param, grad } = items[i]!;
      const bytes = sizeOf(param) * 4;
      ctx.copy(bufferOf(param), param.offset * 4, pg, starts[k]! * 4, bytes);
      ctx.copy(bufferOf(grad), grad.offset * 4, pg, (s + starts[k]!) * 4, bytes);
    });
    // The moments stay where the previous update left them when the group is laid out as it was.
    const prev = bufferOf(items[group[0]!]!.m);
    const inPlace = group.every((i, k) => {
      const { m, v } = items[i]!;
      return bufferOf(m) === prev && bufferOf(v) === prev && m.storage.size === 3 * s && m.offset === s + starts[k]! && v.offset === 2 * s + starts[k]!;
    });
    let mv = prev;
    if (!inPlace) {
      mv = ctx.acquire(2 * s * 4);
      group.forEach((i, k) => {
        const { m, v } = items[i]!;
        const bytes = sizeOf(m) * 4;
        ctx.copy(bufferOf(m), m.offset * 4, mv, starts[k]! * 4, bytes);
        ctx.copy(bufferOf(v), v.offset * 4, mv, (s + starts[k]!) * 4, bytes);
      });
    }
    const out = ctx.acquire(3 * s * 4);
    const chunks = table[table.length - 1]!;
    const params = new Uint32Array(8);
    params.set([s, chunks, table[table.length - 3]!, table[table.length - 2]!, inPlace ? s : 0, inPlace ? 2 * s : s]);
    ctx.dispatch(pipeline, [tableBuffer, pg, mv], out, params, chunks);
    ctx.release(tableBuffer);
    ctx.release(pg);
    if (!inPlace) ctx.release(mv);
    group.forEach((i, k) => {
      const bytes = sizeOf(items[i]!.param) * 4;
      const param = ctx.acquire(bytes);
      ctx.copy(out, starts[k]! * 4, param, 0, bytes);
      results[i] = { param, arena: { buffer: out, size: 3 * s }, m: s + starts[k]!, v: 2 * s + starts[k]! };
    });
  }
  return results;
}

/**
 * The table: per chunk [tensor, first element]; per tensor [start, length, hyper row, 0]; per distinct
 * hyperparameters 8 f32 words. Three trailing words (not read by the shader) give the tensor rows'
 * base, the hyper rows' base and the chunk count.
 */
function buildTable(group: readonly AdamWOperands[], starts: readonly number[]): Uint32Array<ArrayBuffer> {
  const chunks: number[] = [];
  const tensors: number[] = [];
  const hypers: number[] = [];
  const hyperRow = new Map<string, number>();
  group.forEach((it, t) => {
    const n = sizeOf(it.param);
    for (let first = 0; first < n; first += ADAMW_CHUNK) chunks.push(t, first);
    const words = hyperWords(it.h);
    const key = words.join(',');
    if (!hyperRow.has(key)) {
      hyperRow.set(key, hypers.length / 8);
      hypers.push(...words);
    }
    tensors.push(starts[t]!, n, hyperRow.get(key)!, 0);
  });
  const tensorBase = chunks.length;
  const hyperBase = tensorBase + tensors.length;
  return new Uint32Array([...chunks, ...tensors, ...hypers, tensorBase, hyperBase, chunks.length / 2]);
}
