import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '@tillwatch/testkit';
import { parseConfig, type RedmineTarget } from '../config.js';
import { createMetrics } from '../metrics.js';
import { RedmineSync } from './redmine-sync.js';
import { DeskPoller } from './desk-poller.js';

// The poll loop's pacing, on fake timers: when each pass starts after passes that failed or succeeded.
class Scripted extends DeskPoller {
  readonly startedAt: number[] = [];
  constructor(
    interval: number,
    private readonly results: boolean[],
    readonly metrics = createMetrics(),
  ) {
    super('redmine:test', { interval, metrics, logger: pino({ level: 'silent' }) });
  }
  poll(): Promise<void> {
    this.startedAt.push(Date.now());
    const ok = this.results.shift() ?? true;
    return ok ? Promise.resolve() : Promise.reject(new Error('HTTP 503'));
  }
}

describe('the desk poll loop', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits twice as long after each failed pass in a row, up to 16 intervals, and the interval again after a success', async () => {
    const p = new Scripted(100, [false, false, false, false, false, false, true, true]);
    p.start();
    await vi.advanceTimersByTimeAsync(10_000);
    await p.stop();
    // Failures at 0, 200, 600, 1400, 3000, 4600 (capped at 1600), then a success at 6200 and the interval.
    expect(p.startedAt.slice(0, 9)).toEqual([0, 200, 600, 1400, 3000, 4600, 6200, 6300, 6400]);
    const text = await p.metrics.registry.getSingleMetricAsString('tillwatch_bridge_desk_polls_total');
    expect(text).toContain('tillwatch_bridge_desk_polls_total{desk="redmine:test",result="failure"} 6');
  });

  it('keeps a long interval as it is and backs off no further than five minutes past a short one', () => {
    expect(DeskPoller.delay(60_000, 0)).toBe(60_000);
    expect(DeskPoller.delay(60_000, 1)).toBe(120_000);
    expect(DeskPoller.delay(60_000, 10)).toBe(300_000);
    expect(DeskPoller.delay(600_000, 3)).toBe(600_000);
  });

  it('starts no pass after stop, and stop waits for a pass that is under way', async () => {
    let finish!: () => void;
    class Slow extends Scripted {
      override poll(): Promise<void> {
        this.startedAt.push(Date.now());
        return new Promise((r) => (finish = r));
      }
    }
    const p = new Slow(100, []);
    p.start();
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = p.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(p.startedAt).toEqual([0]);
  });
});

describe('stopping a desk poll', () => {
  it('cuts short a request to a desk that does not answer, and counts no failed poll', async () => {
    // A Redmine that takes requests and never answers them (on loopback).
    const got: string[] = [];
    const server = createServer((req) => got.push(req.url ?? ''));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const metrics = createMetrics();
    const config = parseConfig({
      webhook: { bearer_token: 'not-used-here' },
      forwarding: {
        targets: [
          {
            name: 'hung',
            type: 'redmine',
            url: `http://127.0.0.1:${port}`,
            api_key: 'abc123',
            project_id: 'tills',
            sync: { poll_interval: '1s' },
          },
        ],
      },
    });
    const target = config.forwarding.targets[0] as RedmineTarget;
    // The request timeout is an hour: only the stop can end this pass within the test.
    const sync = new RedmineSync({
      target,
      sync: target.sync!,
      db: undefined as never,
      tickets: undefined as never,
      metrics,
      logger: pino({ level: 'silent' }),
      timeoutMs: 3_600_000,
      changed: () => undefined,
    });
    try {
      sync.start();
      await waitFor('the first request of the pass', () => got.length > 0 || undefined, {
        timeoutMs: 10_000,
      });
      await sync.stop();
      expect(got).toEqual(['/users/current.json']);
      expect(await metrics.registry.getSingleMetricAsString('tillwatch_bridge_desk_polls_total')).not.toMatch(
        /result="failure"\} [1-9]/,
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
