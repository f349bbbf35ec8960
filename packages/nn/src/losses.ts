import { crossEntropy, mean, mul, reshape, sub, type CrossEntropyOptions, type Tensor } from '@tessera/tensor';

/** Next-token loss of a causal LM: logits (B, T, V) at position t predict labels (B, T) at t+1, as Hugging Face shifts them. */
export function causalLmLoss(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const [b, t, v] = logits.shape as [number, number, number];
  if (labels.rank !== 2 || labels.shape[0] !== b || labels.shape[1] !== t) {
    throw new RangeError(`causalLmLoss: labels [${labels.shape.join(',')}] must be (B, T) = [${b},${t}] like the logits [${logits.shape.join(',')}]`);
  }
  const shiftedLogits = reshape(logits.slice(1, 0, t - 1), [b * (t - 1), v]);
  const shiftedLabels = reshape(labels.slice(1, 1, t), [b * (t - 1)]);
  return crossEntropy(shiftedLogits, shiftedLabels, opts);
}

/** Mean squared error. */
export function mseLoss(pred: Tensor, target: Tensor): Tensor {
  const d = sub(pred, target);
  return mean(mul(d, d));
}

export { crossEntropy };
