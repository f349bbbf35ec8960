/** A metric that accumulates per batch and computes at the end (the streaming contract every metric here follows). */
export interface StreamingMetric<Args extends unknown[], Result> {
  /** Adds one batch. */
  update(...args: Args): void;
  /** The metric over everything added since construction or the last `reset`. */
  compute(): Result;
  /** Forgets everything added. */
  reset(): void;
}
