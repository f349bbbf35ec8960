// The elementwise kernel every unary, binary, where, copy and cast op is: each input read through its
// own strided, broadcast layout at the thread's output coordinates, then one expression.
import { numel, type Shape, type TensorView } from '@tessera/tensor';
import type { GpuJsContext, Handle } from '../gpujs-context.js';
import { handleOf } from '../gpujs-kernel.js';
import { MetaTable, OUTPUT_COORDS, indexCode, kernelSource } from '../kernel-source.js';

/**
 * Launches `expr` (over v0..v{n-1}, the input values, and P0.., the parameters) for each element of
 * `shape`; `setup` holds statements run before the expression (for multi-line functions).
 */
export function launchMap(ctx: GpuJsContext, what: string, inputs: readonly TensorView[], shape: Shape, expr: string, params: readonly number[] = [], setup = ''): Handle {
  const m = new MetaTable();
  m.dims(shape, what);
  const layouts = inputs.map((v) => m.layout(v, shape, what));
  const p = m.push(...params);
  const withParams = (s: string) => s.replace(/P(\d+)/g, (_, k: string) => `m[${p + Number(k)}]`);
  const body = [
    OUTPUT_COORDS,
    ...layouts.map((at, k) => indexCode(`i${k}`, at, 'c')),
    ...inputs.map((_, k) => `let v${k} = x${k}[i${k}];`),
    withParams(setup),
    `return ${withParams(expr)};`,
  ].join('\n');
  return ctx.run({ source: kernelSource(inputs.length, body), size: numel(shape), args: [...inputs.map(handleOf), m.toArray()] });
}
