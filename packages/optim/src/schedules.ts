import type { Optimizer } from './optimizer.js';

/** A learning-rate multiplier as a function of the step (0-based), as Hugging Face's schedules define them. */
export type Schedule = (step: number) => number;

function warm(step: number, warmup: number): number | null {
  return step < warmup ? step / Math.max(1, warmup) : null;
}

/** Constant after a linear warmup (get_constant_schedule_with_warmup). */
export function constantSchedule(warmupSteps = 0): Schedule {
  return (step) => warm(step, warmupSteps) ?? 1;
}

/** Linear warmup, then linear decay to 0 at totalSteps (get_linear_schedule_with_warmup). */
export function linearSchedule(totalSteps: number, warmupSteps = 0): Schedule {
  return (step) => warm(step, warmupSteps) ?? Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
}

/** Linear warmup, then half a cosine down to `minRatio` at totalSteps (get_cosine_schedule_with_warmup). */
export function cosineSchedule(totalSteps: number, warmupSteps = 0, minRatio = 0): Schedule {
  return (step) => {
    const w = warm(step, warmupSteps);
    if (w !== null) return w;
    const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
    return Math.max(0, minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
  };
}

/** Sets an optimizer's learning rate from a schedule at each step; `step()` after each optimizer step. */
export class LRScheduler {
  #step = 0;

  constructor(readonly optimizer: Optimizer, readonly schedule: Schedule) {
    this.apply();
  }

  /** The schedule's current position. */
  get currentStep(): number {
    return this.#step;
  }

  /** Advances one step and sets the new learning rate. */
  step(): void {
    this.#step++;
    this.apply();
  }

  /** For resume. */
  stateDict(): { step: number } {
    return { step: this.#step };
  }

  /** Continues from a saved position. */
  loadStateDict(s: { step: number }): void {
    this.#step = s.step;
    this.apply();
  }

  private apply(): void {
    this.optimizer.lr = this.optimizer.baseLr * this.schedule(this.#step);
  }
}
