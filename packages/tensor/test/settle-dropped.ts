import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Tensors dropped without dispose are released by the tensor FinalizationRegistry whenever the garbage
// collector gets to them. memory.test.ts counts live tensors before and after one is dropped: it
// collects until earlier tests' garbage is gone, and again until the dropped one is. kernels-webgpu's
// leak checks import this file (test/settle-dropped.ts there) to take their baselines.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Collects until a fresh sentinel object's own FinalizationRegistry callback has run: a fixed number
 * of ticks after gc() can end before the collection's finalization tasks do (they are posted as
 * separate tasks, and not necessarily by the first collection).
 */
async function collectAndFinalize(): Promise<void> {
  let fired = false;
  const registry = new FinalizationRegistry<number>(() => void (fired = true));
  (() => registry.register({}, 0))(); // the sentinel is unreachable once this returns
  for (let round = 0; !fired; round++) {
    if (round === 200) throw new Error('settleDroppedTensors: a sentinel object\'s finalizer did not run after 200 gc() calls; is --expose-gc in effect (setFlagsFromString before any gc)?');
    gc();
    await tick();
  }
  await tick(); // the other registries' callbacks queued by the same collection
}

/** Collects (each time until a sentinel was finalized) until `count` reads the same twice in a row. */
export async function settleDroppedTensors(count: () => number): Promise<void> {
  let last = Number.NaN;
  for (let round = 0; round < 20; round++) {
    await collectAndFinalize();
    const now = count();
    if (now === last) return;
    last = now;
  }
  throw new Error(`settleDroppedTensors: the count still moved after 20 collections (last ${last}); something allocates or releases while settling`);
}
