import { getBackend, type Backend, type OutputSpec } from './backend.js';
import { isGradEnabled, withGradMode } from './grad-mode.js';
import { tidy } from './memory.js';
import { castOp } from './ops/cast.js';
import { contiguousStrides, fmtShape, type Shape } from './shape.js';
import { Tensor } from './tensor.js';

/** What a gradient rule sees: the op's inputs, its output and its attributes. */
export interface VjpContext<A> {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: A;
  /** Which inputs need a gradient; a rule may return null for the others to save work. */
  readonly needsGrad: readonly boolean[];
}

/**
 * A vector-Jacobian product written in terms of ops: given the gradient of the output, the gradient
 * of each input (null where an input gets none). Gradients may have the broadcast shape; the engine
 * sums them back to each input's shape.
 */
export type VjpRule<A> = (dy: Tensor, ctx: VjpContext<A>) => readonly (Tensor | null | undefined)[];

interface OpBase<A> {
  readonly name: string;
  /** True when gradients flow through the op (checked by the gradient-check coverage test). */
  readonly differentiable: boolean;
  readonly vjp?: VjpRule<A>;
}

/** An op every kernels package implements. */
export interface PrimitiveDef<A> extends OpBase<A> {
  readonly kind: 'primitive';
  /** Validates inputs (clear errors) and returns the output's shape and dtype. */
  infer(inputs: readonly Tensor[], attrs: A): OutputSpec;
}

/** An op defined by its decomposition into other ops; a backend may register a fused kernel for it. */
export interface CompositeDef<A> extends OpBase<A> {
  readonly kind: 'composite';
  /** The meaning of the op. Runs whenever no fused kernel applies. */
  decompose(inputs: readonly Tensor[], attrs: A): Tensor;
  /** Shape and dtype of the result, needed only when a fused kernel runs. */
  infer?(inputs: readonly Tensor[], attrs: A): OutputSpec;
  /**
   * Whether a backend's fused kernel may run for these inputs (default: always). False makes the
   * decomposition run instead, for cases a fused kernel does not cover (attention's dropout).
   */
  fusedWhen?(inputs: readonly Tensor[], attrs: A): boolean;
}

/** An op that only re-describes its input's memory (no kernel, no copy). */
export interface ViewDef<A> extends OpBase<A> {
  readonly kind: 'view';
  layout(input: Tensor, attrs: A): { shape: number[]; strides: number[]; offset: number };
  /**
   * Where the view is one contiguous block of its input along an axis (a split's chunk, a narrow):
   * that block, or null. The engine then joins the gradients of an input's blocks with one concat,
   * as PyTorch's split_backward does, instead of running `vjp` (a zero-padded copy each, then adds).
   */
  block?(attrs: A): { axis: number; start: number; size: number } | null;
}

/** Any op: the unit kernels are keyed by and gradient rules are attached to. */
export type OpDef<A = any> = PrimitiveDef<A> | CompositeDef<A> | ViewDef<A>;

/** Defines an op; returns the definition unchanged (typed), so kernels can key on the object. */
export function defineOp<A>(def: PrimitiveDef<A>): PrimitiveDef<A>;
export function defineOp<A>(def: CompositeDef<A>): CompositeDef<A>;
export function defineOp<A>(def: ViewDef<A>): ViewDef<A>;
export function defineOp<A>(def: OpDef<A>): OpDef<A> {
  if (def.kind === 'primitive' && def.differentiable && !def.vjp) {
    throw new Error(`defineOp: primitive "${def.name}" is differentiable but has no vjp rule`);
  }
  return def;
}

function backendOf(op: OpDef, inputs: readonly Tensor[], device: string | undefined): Backend {
  if (inputs.length === 0) return getBackend(device);
  const backend = inputs[0]!.storage.backend;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i]!;
    if (t.isDisposed) {
      throw new Error(`${op.name}: input ${i} (shape ${fmtShape(t.shape)}) was already disposed; keep() it or create it outside the tidy scope`);
    }
    if (t.storage.backend !== backend) {
      throw new Error(
        `${op.name}: inputs live on different backends (input 0 on ${backend.name}, input ${i} on ${t.storage.backend.name}); ` +
          'move them to one backend with tensor.to(name)',
      );
    }
  }
  return backend;
}

function runKernel<A>(op: OpDef<A>, backend: Backend, inputs: readonly Tensor[], attrs: A, spec: OutputSpec): Tensor {
  const kernel = backend.kernels.get(op);
  if (!kernel) {
    throw new Error(
      `${op.name}: the ${backend.name} backend has no kernel for this op (input shapes ${inputs.map((t) => fmtShape(t.shape)).join(', ') || 'none'}); ` +
        'use a backend that implements it or register a kernel',
    );
  }
  const direct = (t: Tensor): boolean => backend.computeDtypes.has(t.dtype) || ((t.dtype === 'f16' || t.dtype === 'bf16') && backend.halfInputs?.has(op) === true);
  const needsCast = op !== castOp && (inputs.some((t) => !direct(t)) || !backend.computeDtypes.has(spec.dtype));
  if (!needsCast) {
    const storage = kernel(inputs, attrs, spec);
    return new Tensor(storage, spec.shape, contiguousStrides(spec.shape), 0, spec.dtype);
  }
  // The backend lacks this dtype for compute (f16/bf16 on the CPU): run the kernel in f32 and convert
  // (inputs the kernel reads directly, `halfInputs`, are passed as they are).
  return withGradMode(false, () =>
    tidy(() => {
      const widened = inputs.map((t) => (direct(t) ? t : apply(castOp, [t], { dtype: 'f32' })));
      const computeDtype = backend.computeDtypes.has(spec.dtype) ? spec.dtype : 'f32';
      const storage = kernel(widened, attrs, { shape: spec.shape, dtype: computeDtype });
      const out = new Tensor(storage, spec.shape, contiguousStrides(spec.shape), 0, computeDtype);
      return computeDtype === spec.dtype ? out : apply(castOp, [out], { dtype: spec.dtype });
    }),
  );
}

/** Options every op call accepts for the device a tensor with no inputs is created on. */
export interface DeviceOption {
  readonly device?: string;
}

/**
 * Runs an op: checks inputs, picks the kernel (or the decomposition for a composite), and records a
 * gradient node when gradients are on and an input requires them.
 */
export function apply<A>(op: OpDef<A>, inputs: readonly Tensor[], attrs: A, device?: string): Tensor {
  const backend = backendOf(op, inputs, device);
  const needsGrad = op.differentiable && isGradEnabled() && inputs.some((t) => t.requiresGrad);
  let out: Tensor;
  switch (op.kind) {
    case 'view': {
      const input = inputs[0]!;
      const { shape, strides, offset } = op.layout(input, attrs);
      out = new Tensor(input.storage, shape, strides, offset, input.dtype);
      break;
    }
    case 'primitive':
      out = runKernel(op, backend, inputs, attrs, op.infer(inputs, attrs));
      break;
    case 'composite': {
      const fused = backend.kernels.has(op) && op.infer !== undefined && (op.fusedWhen?.(inputs, attrs) ?? true);
      if (fused && (!needsGrad || op.vjp)) {
        out = withGradMode(false, () => runKernel(op, backend, inputs, attrs, op.infer!(inputs, attrs)));
      } else if (!needsGrad || op.vjp) {
        // No graph needed through the decomposition: free its intermediates at once.
        out = withGradMode(false, () => tidy(() => op.decompose(inputs, attrs)));
      } else {
        // Differentiate through the decomposition: its primitives record their own nodes.
        return op.decompose(inputs, attrs);
      }
      break;
    }
  }
  if (needsGrad && op.vjp) {
    out.requiresGrad = true;
    out.gradNode = { op, inputs, attrs };
  }
  return out;
}

/** The shape of a tensor argument, for error messages. */
export function describe(t: Tensor | number): string {
  return typeof t === 'number' ? `scalar ${t}` : `${fmtShape(t.shape)} ${t.dtype}`;
}

export type { Shape };
