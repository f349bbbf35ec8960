// Elementwise binary primitives with NumPy broadcasting. Inputs are promoted to one dtype before
// the kernel runs, so kernels see equal dtypes; the engine sums broadcast gradients back.
import { isFloat, promoteTypes, type DType } from '../dtype.js';
import { apply, defineOp, type PrimitiveDef, type VjpRule } from '../op.js';
import { broadcastShapes } from '../shape.js';
import { Tensor } from '../tensor.js';
import { cast } from './cast.js';
import { full, scalarLike } from './creation.js';
import { releaseTemporaries } from './temporaries.js';
import { log, neg } from './unary.js';

type Operand = Tensor | number;

/** A broadcasting binary op; `resultDtype` maps the promoted input dtype to the output dtype. */
export interface BinaryDef extends PrimitiveDef<undefined> {
  readonly resultDtype: (promoted: DType) => DType;
  readonly inputDtype: (promoted: DType) => DType;
}

function defineBinary(
  name: string,
  vjp: VjpRule<undefined> | undefined,
  inputDtype: (d: DType) => DType = (d) => d,
  resultDtype: (d: DType) => DType = (d) => d,
): BinaryDef {
  const def = defineOp<undefined>({
    name,
    kind: 'primitive',
    differentiable: vjp !== undefined,
    ...(vjp ? { vjp } : {}),
    infer: ([a, b]) => ({ shape: broadcastShapes(a!.shape, b!.shape, name), dtype: resultDtype(a!.dtype) }),
  });
  return Object.assign(def, { resultDtype, inputDtype });
}

/** Turns numbers into 0-d tensors beside the other operand, promotes both to one dtype, and runs the op. */
export function applyBinary(op: BinaryDef, a: Operand, b: Operand): Tensor {
  if (typeof a === 'number' && typeof b === 'number') {
    throw new TypeError(`${op.name}: both operands are numbers (${a}, ${b}); pass at least one tensor`);
  }
  const ta = typeof a === 'number' ? scalarLike(a, b as Tensor) : a;
  const tb = typeof b === 'number' ? scalarLike(b, ta) : b;
  const dtype = op.inputDtype(promoteTypes(ta.dtype, tb.dtype));
  const ca = ta.dtype === dtype ? ta : cast(ta, dtype);
  const cb = tb.dtype === dtype ? tb : cast(tb, dtype);
  const out = apply(op, [ca, cb], undefined);
  const originals = [a, b].filter((x): x is Tensor => x instanceof Tensor);
  return releaseTemporaries(out, [ta, tb, ca, cb], originals);
}

const toFloat = (d: DType): DType => (isFloat(d) ? d : 'f32');
const toBool = (): DType => 'bool';

export const addOp = defineBinary('add', (dy) => [dy, dy]);
export const subOp = defineBinary('sub', (dy, { needsGrad }) => [dy, needsGrad[1] ? neg(dy) : null]);
export const mulOp = defineBinary('mul', (dy, { inputs: [a, b], needsGrad }) => [
  needsGrad[0] ? mul(dy, b!) : null,
  needsGrad[1] ? mul(dy, a!) : null,
]);
// d(a/b)/db = -a/b^2 = -out/b
export const divOp = defineBinary(
  'div',
  (dy, { inputs: [, b], output, needsGrad }) => [
    needsGrad[0] ? div(dy, b!) : null,
    needsGrad[1] ? neg(mul(dy, div(output, b!))) : null,
  ],
  toFloat,
);
// d(a^b)/da = b a^(b-1); d(a^b)/db = a^b log(a), taken as 0 where a <= 0 (as PyTorch does at a = 0).
export const powOp = defineBinary(
  'pow',
  (dy, { inputs: [a, b], output, needsGrad }) => [
    needsGrad[0] ? mul(dy, mul(b!, pow(a!, sub(b!, 1)))) : null,
    needsGrad[1] ? mul(dy, where(gt(a!, 0), mul(output, log(a!)), 0)) : null,
  ],
  toFloat,
);
// Ties split the gradient evenly between the operands, as PyTorch does.
function tieShare(a: Tensor, b: Tensor, dy: Tensor, larger: boolean): Tensor {
  const wins = cast(larger ? gt(a, b) : lt(a, b), dy.dtype);
  const ties = cast(eq(a, b), dy.dtype);
  return add(wins, mul(ties, 0.5));
}
export const maximumOp = defineBinary('maximum', (dy, { inputs: [a, b] }) => {
  const share = tieShare(a!, b!, dy, true);
  return [mul(dy, share), mul(dy, sub(1, share))];
});
export const minimumOp = defineBinary('minimum', (dy, { inputs: [a, b] }) => {
  const share = tieShare(a!, b!, dy, false);
  return [mul(dy, share), mul(dy, sub(1, share))];
});
export const eqOp = defineBinary('eq', undefined, (d) => d, toBool);
export const neOp = defineBinary('ne', undefined, (d) => d, toBool);
export const ltOp = defineBinary('lt', undefined, (d) => d, toBool);
export const leOp = defineBinary('le', undefined, (d) => d, toBool);
export const gtOp = defineBinary('gt', undefined, (d) => d, toBool);
export const geOp = defineBinary('ge', undefined, (d) => d, toBool);

/** a + b */
export const add = (a: Operand, b: Operand): Tensor => applyBinary(addOp, a, b);
/** a - b */
export const sub = (a: Operand, b: Operand): Tensor => applyBinary(subOp, a, b);
/** a * b */
export const mul = (a: Operand, b: Operand): Tensor => applyBinary(mulOp, a, b);
/** a / b (true division: integers give f32). */
export const div = (a: Operand, b: Operand): Tensor => applyBinary(divOp, a, b);
/** a ** b */
export const pow = (a: Operand, b: Operand): Tensor => applyBinary(powOp, a, b);
/** Elementwise larger value. */
export const maximum = (a: Operand, b: Operand): Tensor => applyBinary(maximumOp, a, b);
/** Elementwise smaller value. */
export const minimum = (a: Operand, b: Operand): Tensor => applyBinary(minimumOp, a, b);
/** a == b (bool). */
export const eq = (a: Operand, b: Operand): Tensor => applyBinary(eqOp, a, b);
/** a != b (bool). */
export const ne = (a: Operand, b: Operand): Tensor => applyBinary(neOp, a, b);
/** a < b (bool). */
export const lt = (a: Operand, b: Operand): Tensor => applyBinary(ltOp, a, b);
/** a <= b (bool). */
export const le = (a: Operand, b: Operand): Tensor => applyBinary(leOp, a, b);
/** a > b (bool). */
export const gt = (a: Operand, b: Operand): Tensor => applyBinary(gtOp, a, b);
/** a >= b (bool). */
export const ge = (a: Operand, b: Operand): Tensor => applyBinary(geOp, a, b);

/** Picks `a` where `cond` is true, else `b` (all three broadcast). */
export const whereOp = defineOp<undefined>({
  name: 'where',
  kind: 'primitive',
  differentiable: true,
  infer: ([c, a, b]) => {
    if (c!.dtype !== 'bool') throw new TypeError(`where: condition must be bool (got ${c!.dtype}); compare first, e.g. gt(x, 0)`);
    return { shape: broadcastShapes(broadcastShapes(c!.shape, a!.shape, 'where'), b!.shape, 'where'), dtype: a!.dtype };
  },
  vjp: (dy, { inputs: [c], needsGrad }) => {
    const zero = scalarLike(0, dy);
    return [null, needsGrad[1] ? where(c!, dy, zero) : null, needsGrad[2] ? where(c!, zero, dy) : null];
  },
});

/** `cond ? a : b` elementwise, with broadcasting; numbers take the other branch's dtype. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  if (typeof a === 'number' && typeof b === 'number') {
    const ta = full([], a, { dtype: 'f32', device: cond.device });
    return releaseTemporaries(where(cond, ta, b), [ta], [cond]);
  }
  const ta = typeof a === 'number' ? scalarLike(a, b as Tensor) : a;
  const tb = typeof b === 'number' ? scalarLike(b, ta) : b;
  const dtype = promoteTypes(ta.dtype, tb.dtype);
  const ca = ta.dtype === dtype ? ta : cast(ta, dtype);
  const cb = tb.dtype === dtype ? tb : cast(tb, dtype);
  const out = apply(whereOp, [cond, ca, cb], undefined);
  const originals = [cond, a, b].filter((x): x is Tensor => x instanceof Tensor);
  return releaseTemporaries(out, [ta, tb, ca, cb], originals);
}
