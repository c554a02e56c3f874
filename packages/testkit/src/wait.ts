// Polling for a condition in tests and benches. Written here rather than taken from a library because
// the two near fits fall short: p-wait-for stops at the first error the check throws, while a program
// that is still starting refuses connections for a while; vitest's vi.waitFor only runs inside a test,
// and the benches run under tsx.

export interface WaitOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  /** Pause between checks; default 100 ms. */
  intervalMs?: number;
}

/** Thrown by a check to stop waiting at once (the program it waits for has exited, say). */
export class StopWaiting extends Error {
  override name = 'StopWaiting';
}

/**
 * Calls `check` until it returns a value other than undefined or false, and resolves with that value.
 * An error the check throws counts as "not yet" (the last one is kept for the message), except
 * StopWaiting, which rejects at once. On timeout it rejects naming `what` and the last error.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      if (err instanceof StopWaiting) throw err;
      last = err;
    }
    if (Date.now() >= deadline)
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
