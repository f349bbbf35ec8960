import { appendEncoding, emptyEncoding, type Encoding } from '../encoding.js';
import { trimByteLevelOffsets } from './byte-level.js';
import type { PostProcessor } from './post-processor.js';
import { specialTokenEncoding, withTypeId } from './special-token-encoding.js';

/** BertProcessing: `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]`. */
export class BertProcessing implements PostProcessor {
  constructor(readonly sep: [string, number], readonly cls: [string, number], private readonly json: Record<string, unknown>) {}
  addedTokens(isPair: boolean): number {
    return isPair ? 3 : 2;
  }
  process(a: Encoding, b: Encoding | null, addSpecialTokens: boolean): Encoding {
    const out = emptyEncoding();
    if (!addSpecialTokens) {
      appendEncoding(out, a);
      if (b) appendEncoding(out, withTypeId({ ...b }, 1));
      return out;
    }
    appendEncoding(out, specialTokenEncoding([this.cls[1]], [this.cls[0]], 0));
    appendEncoding(out, withTypeId({ ...a }, 0));
    appendEncoding(out, specialTokenEncoding([this.sep[1]], [this.sep[0]], 0));
    if (b) {
      appendEncoding(out, withTypeId({ ...b }, 1));
      appendEncoding(out, specialTokenEncoding([this.sep[1]], [this.sep[0]], 1));
    }
    return out;
  }
  toJSON(): Record<string, unknown> {
    return this.json;
  }
}

/** RobertaProcessing: `<s> A </s>` and `<s> A </s> </s> B </s>`, with byte-level offset trimming. */
export class RobertaProcessing implements PostProcessor {
  constructor(readonly sep: [string, number], readonly cls: [string, number], readonly trimOffsets: boolean, readonly addPrefixSpace: boolean, private readonly json: Record<string, unknown>) {}
  addedTokens(isPair: boolean): number {
    return isPair ? 4 : 2;
  }
  process(a: Encoding, b: Encoding | null, addSpecialTokens: boolean): Encoding {
    if (this.trimOffsets) {
      trimByteLevelOffsets(a, this.addPrefixSpace);
      if (b) trimByteLevelOffsets(b, this.addPrefixSpace);
    }
    const out = emptyEncoding();
    if (!addSpecialTokens) {
      appendEncoding(out, a);
      if (b) appendEncoding(out, b);
      return out;
    }
    appendEncoding(out, specialTokenEncoding([this.cls[1]], [this.cls[0]], 0));
    appendEncoding(out, withTypeId({ ...a }, 0));
    appendEncoding(out, specialTokenEncoding([this.sep[1]], [this.sep[0]], 0));
    if (b) {
      appendEncoding(out, specialTokenEncoding([this.sep[1]], [this.sep[0]], 0));
      appendEncoding(out, withTypeId({ ...b }, 0));
      appendEncoding(out, specialTokenEncoding([this.sep[1]], [this.sep[0]], 0));
    }
    return out;
  }
  toJSON(): Record<string, unknown> {
    return this.json;
  }
}
