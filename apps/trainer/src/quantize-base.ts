import { Linear, type Module } from '@tessera/nn';
import { Nf4Linear } from '@tessera/peft';

/**
 * QLoRA's frozen base: every Linear inside the decoder layers becomes an NF4 layer (4-bit weights,
 * block 64, double-quantised scales), as bitsandbytes' load_in_4bit does; embeddings and the output
 * head stay in full precision. LoRA is then added on top by PeftModel. Returns the layers replaced.
 */
export function quantizeDecoderLinears(model: Module): { layers: number; denseBytes: number; nf4Bytes: number } {
  let layers = 0;
  let denseBytes = 0;
  let nf4Bytes = 0;
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof Linear) || !/(^|\.)layers\.\d+\./.test(path)) continue;
    const q = Nf4Linear.fromLinear(m);
    const dot = path.lastIndexOf('.');
    model.getModule(path.slice(0, dot)).replaceChild(path.slice(dot + 1), q);
    denseBytes += m.weight.size * 4;
    nf4Bytes += q.packed.size + q.scalesQ.size + q.scales2.size * 4;
    m.weight.dispose();
    layers++;
  }
  if (layers === 0) throw new Error('qlora: no Linear layers found under "layers.N." to quantise; QLoRA needs a decoder model (Llama family)');
  return { layers, denseBytes, nf4Bytes };
}
