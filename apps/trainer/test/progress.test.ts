import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CountProgress, StepProgress } from '../src/progress.js';

/** A stream that records what is written to it, a terminal or not. */
function screen(isTTY: boolean): Writable & { isTTY: boolean; columns: number; text: () => string } {
  let written = '';
  const s = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      written += chunk.toString();
      done();
    },
  });
  return Object.assign(s, { isTTY, columns: 200, text: () => written });
}

describe('progress displays', () => {
  let lines: string[];
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['performance', 'Date', 'setTimeout', 'clearTimeout'] });
    lines = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void lines.push(s));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('StepProgress resumed at step 900 of 1000: the ETA counts only steps run since (plain lines)', () => {
    const p = new StepProgress('train', 1000, false, { start: 900, stream: screen(false) });
    vi.advanceTimersByTime(11_000);
    p.update(910, 1.5, 2e-4, 1234);
    // 10 steps in 11 s, 90 left: 99 s (the old display divided by all 910 steps: 1 s).
    expect(lines).toEqual(['train 910/1000 | loss 1.5000 | lr 2.00e-4 | 1234 input tok/s | ETA 99 s']);
    p.update(911, 1.4, 2e-4, 1234);
    expect(lines.length).toBe(1); // at most one line every ~10 s
    vi.advanceTimersByTime(1_000);
    p.update(1000, 1.2, 0, 1000);
    expect(lines.at(-1)).toBe('train 1000/1000 | loss 1.2000 | lr 0.00e+0 | 1000 input tok/s | ETA 0 s'); // the last step always prints
    p.stop();
  });

  it('the terminal bar starts at the resumed step and its ETA uses the rate since then', () => {
    const tty = screen(true);
    const p = new StepProgress('train', 1000, false, { start: 900, stream: tty });
    expect(tty.text()).toContain('900/1000');
    expect(tty.text()).not.toContain(' 0/1000');
    vi.advanceTimersByTime(1_000);
    p.update(901, 2, 1e-3, 50);
    p.stop();
    // One step a second, 99 to go (cli-progress rounds 99.000…01 s up).
    expect(tty.text()).toMatch(/901\/1000 \| loss 2\.0000 \| lr 1\.00e-3 \| 50 input tok\/s \| ETA 1m(39|40)s/);
    expect(lines).toEqual([]);
  });

  it('CountProgress shows evaluation progress with an ETA; quiet shows nothing', () => {
    const p = new CountProgress('eval', 120, false, { unit: 'examples', stream: screen(false) });
    vi.advanceTimersByTime(10_000);
    p.update(40);
    p.update(41);
    p.update(120);
    p.stop();
    expect(lines).toEqual(['eval 40/120 examples | ETA 20 s', 'eval 120/120 examples | ETA 0 s']);
    const tty = screen(true);
    const q = new CountProgress('eval', 120, true, { unit: 'examples', stream: tty });
    q.update(120);
    q.stop();
    expect(tty.text()).toBe('');
    expect(lines.length).toBe(2);
  });
});
