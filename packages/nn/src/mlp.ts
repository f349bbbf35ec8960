import { gelu, mul, relu, silu, type Tensor } from '@tessera/tensor';
import type { InitOptions } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

/** Activation names as Hugging Face configs spell them (`hidden_act`). */
export type Activation = 'silu' | 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu';

/** Applies an activation by its Hugging Face name. */
export function activate(x: Tensor, act: Activation): Tensor {
  switch (act) {
    case 'silu':
      return silu(x);
    case 'gelu':
      return gelu(x);
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return gelu(x, { approximate: 'tanh' });
    case 'relu':
      return relu(x);
    default:
      throw new Error(`activate: unsupported activation "${String(act)}"; supported: silu, gelu, gelu_new, gelu_pytorch_tanh, relu`);
  }
}

/** Two-layer MLP fc1 -> activation -> fc2 (GPT-2/BERT style). */
export class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(hidden: number, intermediate: number, readonly act: Activation = 'gelu', opts: InitOptions & { bias?: boolean } = {}) {
    super();
    this.fc1 = this.child('fc1', new Linear(hidden, intermediate, opts));
    this.fc2 = this.child('fc2', new Linear(intermediate, hidden, opts));
  }

  forward(x: Tensor): Tensor {
    return this.fc2.forward(activate(this.fc1.forward(x), this.act));
  }
}

/** Gated MLP down(act(gate(x)) * up(x)) with Llama's names gate_proj/up_proj/down_proj (SwiGLU with silu). */
export class GatedMlp extends Module {
  readonly gate_proj: Linear;
  readonly up_proj: Linear;
  readonly down_proj: Linear;

  constructor(hidden: number, intermediate: number, readonly act: Activation = 'silu', opts: InitOptions & { bias?: boolean } = {}) {
    super();
    const o = { ...opts, bias: opts.bias ?? false };
    this.gate_proj = this.child('gate_proj', new Linear(hidden, intermediate, o));
    this.up_proj = this.child('up_proj', new Linear(hidden, intermediate, o));
    this.down_proj = this.child('down_proj', new Linear(intermediate, hidden, o));
  }

  forward(x: Tensor): Tensor {
    return this.down_proj.forward(mul(activate(this.gate_proj.forward(x), this.act), this.up_proj.forward(x)));
  }
}
