import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Leak checks compare the backend's live buffer bytes before and after a step. Tensors that earlier
// tests dropped without dispose are released by @tessera/tensor's FinalizationRegistry whenever the
// garbage collector gets to them; when that falls in the measured step their buffers read as a
// negative leak. (Tensor counts need no collection: `memory().numUndisposed` ignores such releases.)
// Collecting them before the baseline leaves only the step's own buffers to count; buffers of
// tensors the step itself drops still show, as they should.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Forces a full collection and waits for the finalizers it queued, until the count is stable. */
export async function settleDroppedTensors(count: () => number): Promise<void> {
  let last = Number.NaN;
  for (let round = 0; round < 20; round++) {
    gc();
    // Finalization callbacks run as separate tasks after the collection.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 0));
    const now = count();
    if (now === last) return;
    last = now;
  }
}
