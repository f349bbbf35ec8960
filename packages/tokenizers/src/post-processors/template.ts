import { appendEncoding, emptyEncoding, type Encoding } from '../encoding.js';
import type { PostProcessor } from './post-processor.js';
import { specialTokenEncoding, withTypeId } from './special-token-encoding.js';

/** One piece of a template: a special token or one of the input sequences. */
export type TemplatePiece = { kind: 'special'; id: string; typeId: number } | { kind: 'sequence'; id: 'A' | 'B'; typeId: number };

/** A special token of a template with the ids and tokens it expands to. */
export interface TemplateSpecialToken {
  id: string;
  ids: number[];
  tokens: string[];
}

function parsePiece(p: unknown, where: string): TemplatePiece {
  const o = p as { SpecialToken?: { id: string; type_id?: number }; Sequence?: { id: 'A' | 'B'; type_id?: number } };
  if (o?.SpecialToken) return { kind: 'special', id: o.SpecialToken.id, typeId: o.SpecialToken.type_id ?? 0 };
  if (o?.Sequence) return { kind: 'sequence', id: o.Sequence.id, typeId: o.Sequence.type_id ?? 0 };
  throw new Error(`${where}: expected { "SpecialToken": {...} } or { "Sequence": {...} }, got ${JSON.stringify(p)}`);
}

/** TemplateProcessing: `[CLS] $A [SEP] $B:1 [SEP]:1` style templates. */
export class TemplateProcessing implements PostProcessor {
  readonly single: TemplatePiece[];
  readonly pair: TemplatePiece[];
  readonly specialTokens: Map<string, TemplateSpecialToken>;

  constructor(private readonly json: Record<string, unknown>, where = 'post_processor') {
    if (!Array.isArray(json.single)) throw new Error(`${where}.single: expected an array of template pieces, got ${JSON.stringify(json.single)}`);
    this.single = json.single.map((p, i) => parsePiece(p, `${where}.single[${i}]`));
    this.pair = Array.isArray(json.pair) ? json.pair.map((p, i) => parsePiece(p, `${where}.pair[${i}]`)) : [];
    this.specialTokens = new Map();
    for (const [k, v] of Object.entries((json.special_tokens ?? {}) as Record<string, TemplateSpecialToken>)) this.specialTokens.set(k, v);
    for (const p of [...this.single, ...this.pair]) {
      if (p.kind === 'special' && !this.specialTokens.has(p.id)) throw new Error(`${where}.special_tokens: template uses ${JSON.stringify(p.id)} but special_tokens has no entry for it; add { "id", "ids", "tokens" }`);
    }
  }

  /** Number of special tokens the template adds. */
  addedTokens(isPair: boolean): number {
    const t = isPair ? this.pair : this.single;
    let n = 0;
    for (const p of t) if (p.kind === 'special') n += this.specialTokens.get(p.id)!.ids.length;
    return n;
  }

  /** Lays the encodings out along the template. */
  process(a: Encoding, b: Encoding | null, addSpecialTokens: boolean): Encoding {
    if (!addSpecialTokens && !b) return a;
    const out = emptyEncoding();
    if (!addSpecialTokens) {
      appendEncoding(out, a);
      if (b) appendEncoding(out, b);
      return out;
    }
    for (const p of b ? this.pair : this.single) {
      if (p.kind === 'special') {
        const s = this.specialTokens.get(p.id)!;
        appendEncoding(out, specialTokenEncoding(s.ids, s.tokens, p.typeId));
      } else {
        const e = p.id === 'A' ? a : b;
        if (e) appendEncoding(out, withTypeId({ ...e, typeIds: e.typeIds.slice() }, p.typeId));
      }
    }
    return out;
  }

  toJSON(): Record<string, unknown> {
    return this.json;
  }
}
