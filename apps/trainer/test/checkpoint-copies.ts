import { cp } from 'node:fs/promises';
import type * as Checkpoint from '../src/checkpoint.js';

/** The steps of every checkpoint saved through `copyingEverySave`, in order; a test file empties it before each test that reads it. */
export const savedSteps: number[] = [];

/**
 * src/checkpoint.js whose saveCheckpoint also copies each save aside as `<dir>-step<N>`, so a test
 * can check (and resume from) every save, not only the last one. For vi.mock:
 * `vi.mock('../src/checkpoint.js', async (original) => (await import('./checkpoint-copies.js')).copyingEverySave(await original()))`.
 */
export function copyingEverySave(real: typeof Checkpoint): typeof Checkpoint {
  return {
    ...real,
    saveCheckpoint: async (...args: Parameters<typeof real.saveCheckpoint>) => {
      await real.saveCheckpoint(...args);
      savedSteps.push(args[3].cursor.step);
      await cp(args[0], `${args[0]}-step${args[3].cursor.step}`, { recursive: true });
    },
  };
}
