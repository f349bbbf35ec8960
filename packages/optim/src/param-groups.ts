import type { Tensor } from '@tessera/tensor';

/** Parameters sharing hyperparameters; unset fields take the optimizer's defaults. */
export interface ParamGroup {
  params: [name: string, p: Tensor][];
  lr?: number;
  weightDecay?: number;
}

/** Hugging Face's rule: no weight decay on biases and norm weights (any parameter of rank < 2, or named like one). */
export function decays(name: string, p: Tensor): boolean {
  const lower = name.toLowerCase();
  return p.rank >= 2 && !lower.endsWith('bias') && !lower.includes('norm');
}

/** Splits named parameters into a decayed and a non-decayed group by `decays`. */
export function defaultParamGroups(params: Iterable<[string, Tensor]>, weightDecay: number): ParamGroup[] {
  const withDecay: [string, Tensor][] = [];
  const without: [string, Tensor][] = [];
  for (const entry of params) (decays(entry[0], entry[1]) ? withDecay : without).push(entry);
  return [
    { params: withDecay, weightDecay },
    { params: without, weightDecay: 0 },
  ].filter((g) => g.params.length > 0);
}

/** Accepts named parameters or explicit groups. */
export function toGroups(params: Iterable<[string, Tensor]> | ParamGroup[], weightDecay: number, split: boolean): ParamGroup[] {
  const list = Array.isArray(params) ? params : [...params];
  if (list.length > 0 && !Array.isArray(list[0])) return list as ParamGroup[];
  const named = list as [string, Tensor][];
  return split ? defaultParamGroups(named, weightDecay) : [{ params: named, weightDecay }];
}
