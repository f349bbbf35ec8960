import cliProgress from 'cli-progress';

/**
 * A step bar with loss, lr, tokens/s and ETA (cli-progress) on a terminal. Off a terminal (CI,
 * logs) it prints a plain line every ~10 s instead: cli-progress's non-TTY mode renders from a
 * timer, which never fires while a synchronous training step holds the event loop.
 */
export class StepProgress {
  #bar: cliProgress.SingleBar | null = null;
  #lastLine = 0;
  readonly #start = performance.now();
  constructor(
    readonly label: string,
    readonly total: number,
    readonly quiet = false,
  ) {
    if (quiet || !process.stdout.isTTY) return;
    this.#bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total} | loss {loss} | lr {lr} | {tps} tok/s | ETA {eta_formatted}`, hideCursor: true, etaBuffer: 20 },
      cliProgress.Presets.shades_classic,
    );
    this.#bar.start(total, 0, { loss: '-', lr: '-', tps: '-' });
  }
  /** Moves to `step` with the latest numbers. */
  update(step: number, loss: number, lr: number, tokensPerSecond: number): void {
    if (this.quiet) return;
    if (this.#bar) {
      this.#bar.update(step, { loss: loss.toFixed(4), lr: lr.toExponential(2), tps: tokensPerSecond.toFixed(0) });
      return;
    }
    const now = performance.now();
    if (now - this.#lastLine < 10_000 && step !== this.total) return;
    this.#lastLine = now;
    const elapsed = (now - this.#start) / 1000;
    const eta = (elapsed / step) * (this.total - step);
    console.log(`${this.label} ${step}/${this.total} | loss ${loss.toFixed(4)} | lr ${lr.toExponential(2)} | ${tokensPerSecond.toFixed(0)} tok/s | ETA ${eta.toFixed(0)} s`);
  }
  /** Ends the bar. */
  stop(): void {
    this.#bar?.stop();
  }
}
