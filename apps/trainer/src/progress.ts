import cliProgress from 'cli-progress';

/** Options shared by the progress displays. */
export interface ProgressOptions {
  /**
   * Where the count already stands when the display starts (a resumed run's step; default 0): the
   * bar starts there, and rates and the ETA count only the work done since.
   */
  start?: number;
  /**
   * Where the bar draws; it is drawn only when this stream is a terminal. Default: the bar on stderr
   * when stdout is a terminal, else plain lines on stdout.
   */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * A cli-progress bar on a terminal. Off a terminal (CI, logs) it prints a plain line every ~10 s
 * instead: cli-progress's non-TTY mode renders from a timer, which never fires while a synchronous
 * training step (or forward pass) holds the event loop.
 */
class BarOrLines {
  readonly #bar: cliProgress.SingleBar | null = null;
  readonly #t0 = performance.now();
  #lastLine = this.#t0;
  readonly start: number;

  constructor(
    readonly total: number,
    readonly quiet: boolean,
    format: string,
    payload: Record<string, string>,
    options: ProgressOptions,
  ) {
    this.start = options.start ?? 0;
    if (quiet || !(options.stream ? options.stream.isTTY : process.stdout.isTTY)) return;
    this.#bar = new cliProgress.SingleBar({ format, hideCursor: true, etaBuffer: 20, ...(options.stream ? { stream: options.stream } : {}) }, cliProgress.Presets.shades_classic);
    this.#bar.start(total, this.start, payload);
  }

  /** Moves the bar to `value`, or prints `line(eta)` when ~10 s have passed since the last one (and always at the end). */
  show(value: number, payload: Record<string, string>, line: (eta: string) => string): void {
    if (this.quiet) return;
    if (this.#bar) {
      this.#bar.update(value, payload);
      return;
    }
    const now = performance.now();
    if (now - this.#lastLine < 10_000 && value !== this.total) return;
    this.#lastLine = now;
    // Seconds per unit done in this process, so a resumed run's ETA is not divided by steps done before it.
    const done = value - this.start;
    const eta = done > 0 ? `${(((now - this.#t0) / 1000 / done) * (this.total - value)).toFixed(0)} s` : '-';
    console.log(line(eta));
  }

  stop(): void {
    this.#bar?.stop();
  }
}

/**
 * A training step display: loss, lr, input tokens per second (prompts included, padding not) and
 * ETA. Pass a resumed run's step as `start`
 * (`new StepProgress('train', steps, quiet, { start: cursor.step })`).
 */
export class StepProgress {
  readonly #out: BarOrLines;
  constructor(
    readonly label: string,
    readonly total: number,
    readonly quiet = false,
    options: ProgressOptions = {},
  ) {
    this.#out = new BarOrLines(total, quiet, `${label} [{bar}] {value}/{total} | loss {loss} | lr {lr} | {tps} input tok/s | ETA {eta_formatted}`, { loss: '-', lr: '-', tps: '-' }, options);
  }
  /** Moves to `step` with the latest numbers. */
  update(step: number, loss: number, lr: number, inputTokensPerSecond: number): void {
    const p = { loss: loss.toFixed(4), lr: lr.toExponential(2), tps: inputTokensPerSecond.toFixed(0) };
    this.#out.show(step, p, (eta) => `${this.label} ${step}/${this.total} | loss ${p.loss} | lr ${p.lr} | ${p.tps} input tok/s | ETA ${eta}`);
  }
  /** Ends the bar. */
  stop(): void {
    this.#out.stop();
  }
}

/**
 * Progress through a known number of items, such as the examples of an evaluation:
 * `const p = new CountProgress('eval', examples.length, quiet, { unit: 'examples' })`, then
 * `p.update(done)` after each item (or batch) and `p.stop()` at the end.
 */
export class CountProgress {
  readonly #out: BarOrLines;
  readonly #unit: string;
  constructor(
    readonly label: string,
    readonly total: number,
    readonly quiet = false,
    options: ProgressOptions & { unit?: string } = {},
  ) {
    this.#unit = options.unit ? ` ${options.unit}` : '';
    this.#out = new BarOrLines(total, quiet, `${label} [{bar}] {value}/{total}${this.#unit} | ETA {eta_formatted}`, {}, options);
  }
  /** `done` items of `total` are finished. */
  update(done: number): void {
    this.#out.show(done, {}, (eta) => `${this.label} ${done}/${this.total}${this.#unit} | ETA ${eta}`);
  }
  /** Ends the bar. */
  stop(): void {
    this.#out.stop();
  }
}
