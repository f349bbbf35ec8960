import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Leak checks compare the backend's live buffer bytes before and after a step. Tensors that earlier
// tests dropped without dispose are released by @tessera/tensor's FinalizationRegistry whenever the
// garbage collector gets to them; when that falls in the measured step their buffers read as a
// negative leak. (Tensor counts need no collection: `memory().numUndisposed` ignores such releases.)
// Collecting them before the baseline leaves only the step's own buffers to count; buffers of
// tensors the step itself drops still show, as they should. (@tessera/tensor's memory.test.ts
// settles the same way.)
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
