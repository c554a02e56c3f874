import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';

/** A failing desk is polled at most this far apart (or at its own interval, when that is longer). */
const MAX_BACKOFF_MS = 5 * 60_000;
/** ... and at most this many intervals apart, so a desk polled often comes back soon after it recovers. */
const MAX_BACKOFF_INTERVALS = 16;

/**
 * The poll loop of a service desk without outgoing webhooks (Redmine, Request Tracker): one pass at a time,
 * the next `interval` after the last ended, each counted in `tillwatch_bridge_desk_polls_total` by result.
 *
 * A pass that fails is followed by a longer wait, doubling with each failure in a row up to 16 intervals or
 * 5 minutes (the interval itself when longer), and back to the interval after a pass succeeds. A desk that
 * answers slowly because it is overloaded is not sent a new pass of requests every interval on top of the
 * ones that just timed out: a single-threaded server (Redmine on thin, RT on a small FastCGI pool) still
 * works through requests its client has given up on, so polling at full rate would keep it overloaded.
 */
export abstract class DeskPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private failures = 0;
  private stopping = new AbortController();

  protected constructor(
    /** The delivery target id (`redmine:<name>`, `rt:<name>`): the `desk` label and the cursor's key. */
    protected readonly desk: string,
    private readonly loop: { interval: number; metrics: Metrics; logger: Logger },
  ) {}

  /** One pass over what changed in the desk since the last complete one. */
  abstract poll(): Promise<void>;

  /**
   * The signal a pass's requests take beside their own timeout: aborted by stop, so a bridge that is shutting
   * down does not wait for a slow desk (a pass cut short stores no cursor and is repeated after the restart).
   */
  protected get stopSignal(): AbortSignal {
    return this.stopping.signal;
  }

  start(): void {
    this.stopped = false;
    this.stopping = new AbortController();
    this.schedule(0);
  }

  /** Stops polling: a pass under way is cut short (its request in flight aborted); resolves when it has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stopping.abort(new Error('the bridge is stopping'));
    await this.running;
  }

  /** The wait before the next pass: the interval, or the backoff after `failures` failed passes in a row. */
  static delay(interval: number, failures: number): number {
    if (failures === 0) return interval;
    const cap = Math.max(interval, Math.min(MAX_BACKOFF_MS, interval * MAX_BACKOFF_INTERVALS));
    return Math.min(interval * 2 ** failures, cap);
  }

  private schedule(ms: number): void {
    const { metrics, logger, interval } = this.loop;
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.running = this.poll()
        .then(() => {
          this.failures = 0;
          metrics.deskPolls.inc({ desk: this.desk, result: 'success' });
        })
        .catch((e: unknown) => {
          // Cut short by stop: not the desk's failure.
          if (this.stopped) return;
          this.failures++;
          metrics.deskPolls.inc({ desk: this.desk, result: 'failure' });
          logger.warn(
            {
              desk: this.desk,
              err: (e as Error).message,
              failures: this.failures,
              next_in_ms: DeskPoller.delay(interval, this.failures),
            },
            'desk poll failed',
          );
        })
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule(DeskPoller.delay(interval, this.failures));
        });
    }, ms);
  }
}
