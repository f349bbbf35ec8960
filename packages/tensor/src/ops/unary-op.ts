import { isFloat } from '../dtype.js';
import { apply, defineOp, type PrimitiveDef, type VjpRule } from '../op.js';
import type { Tensor } from '../tensor.js';
import { cast } from './cast.js';

/** An elementwise op of one input; `floatOnly` ops promote integer inputs to f32, as PyTorch does. */
export interface UnaryDef<A = undefined> extends PrimitiveDef<A> {
  readonly floatOnly: boolean;
}

/** Defines an elementwise unary primitive with its gradient rule (or none when not differentiable). */
export function defineUnary<A = undefined>(name: string, floatOnly: boolean, vjp?: VjpRule<A>): UnaryDef<A> {
  return Object.assign(
    defineOp<A>({
      name,
      kind: 'primitive',
      differentiable: vjp !== undefined,
      ...(vjp ? { vjp } : {}),
      infer: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
    }),
    { floatOnly },
  );
}

/** Applies a unary op, promoting integer inputs first when the op yields floats. */
export function applyUnary<A>(op: UnaryDef<A>, x: Tensor, attrs: A): Tensor {
  const input = op.floatOnly && !isFloat(x.dtype) ? cast(x, 'f32') : x;
  return apply(op, [input], attrs);
}
