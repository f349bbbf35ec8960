import { cast, concat, crossEntropy, full, mean, mul, reshape, sub, type CrossEntropyOptions, type Tensor } from '@tessera/tensor';

/**
 * Next-token loss of a causal LM: logits (B, T, V) at position t predict labels (B, T) at t+1, as
 * Hugging Face shifts them. The labels shift left (the last position of each row gets ignoreIndex),
 * not the logits: the logits go in whole, so the loss makes no (B, T-1, V) copy of them and their
 * gradient is no zero-padded (B, T, V) one. reduction 'none' gives the B·(T-1) shifted positions.
 */
export function causalLmLoss(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const [b, t, v] = logits.shape as [number, number, number];
  if (labels.rank !== 2 || labels.shape[0] !== b || labels.shape[1] !== t) {
    throw new RangeError(`causalLmLoss: labels [${labels.shape.join(',')}] must be (B, T) = [${b},${t}] like the logits [${logits.shape.join(',')}]`);
  }
  // i32, so the ignore index (negative by default) is representable whatever integer dtype came in.
  const ids = labels.dtype === 'i32' ? labels : cast(labels, 'i32');
  const ignored = full([b, 1], opts.ignoreIndex ?? -100, { dtype: 'i32', device: labels.device });
  const nextLabels = concat([ids.slice(1, 1, t), ignored], 1); // (B, T)
  const loss = crossEntropy(reshape(logits, [b * t, v]), reshape(nextLabels, [b * t]), opts);
  return opts.reduction === 'none' ? reshape(reshape(loss, [b, t]).slice(1, 0, t - 1), [b * (t - 1)]) : loss;
}

/** Mean squared error. */
export function mseLoss(pred: Tensor, target: Tensor): Tensor {
  const d = sub(pred, target);
  return mean(mul(d, d));
}

export { crossEntropy };
