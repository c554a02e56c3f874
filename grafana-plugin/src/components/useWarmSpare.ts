import { useEffect } from 'react';
import { HierarchyModel, warmSpare } from '../data/hierarchy';

/** How long the page waits for an idle period before warming anyway (a busy dashboard may have none). */
const IDLE_TIMEOUT_MS = 1000;
/** Without requestIdleCallback (older Safari): the time one task may spend before yielding. */
const SLICE_MS = 8;

/**
 * Once a model is on screen, brings the buffers the next refresh writes up to date with it (`warmSpare`) while
 * the page is idle, an array at a time, so that the refresh itself need not: after a full build that is a copy
 * of some 23 MB at 100,000 tills × 5 devices. Every idle period does at least one array. A refresh that comes
 * first finishes the rest itself; a new model or unmounting stops it. `onDone` gets the time it took in all.
 */
export function useWarmSpare(model: HierarchyModel | undefined, onDone?: (ms: number) => void): void {
  useEffect(() => {
    if (!model) {
      return;
    }
    const idle = typeof window.requestIdleCallback === 'function';
    let handle: number | undefined;
    let spent = 0;
    const step = (deadline?: IdleDeadline) => {
      const t0 = performance.now();
      let first = true;
      const more = () => {
        const go = first || (deadline ? deadline.timeRemaining() > 1 : performance.now() - t0 < SLICE_MS);
        first = false;
        return go;
      };
      const done = warmSpare(model, more);
      spent += performance.now() - t0;
      if (done) {
        handle = undefined;
        onDone?.(spent);
      } else {
        handle = schedule();
      }
    };
    const schedule = () =>
      idle ? window.requestIdleCallback(step, { timeout: IDLE_TIMEOUT_MS }) : window.setTimeout(step, 0);
    handle = schedule();
    return () => {
      if (handle !== undefined) {
        (idle ? window.cancelIdleCallback : window.clearTimeout)(handle);
      }
    };
    // onDone only reports; a new callback must not restart the warm-up.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [model]);
}
