// Short form of the exporter soak (issue 23); `npm run bench -- exporter-soak` runs it for 10 minutes
// with a 200 MB line and records the latencies. This test asserts no timings, only what must hold
// however slow the machine is: the exporter stays within its unit's memory cap, every scrape with the
// right password is served, no guess gets in, the guesses cost a bounded number of bcrypt checks,
// and the tailer reads through the runaway line and counts the line after it.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_AUTH_LIMITS } from './web-auth.js';
import { runSoak, seriesValue, unitEnvironment, unitMemoryMaxBytes, unitNodeFlags } from '@tillwatch/testkit';

describe('exporter soak (short)', () => {
  it('under a wrong-password flood and a 160 MB line without a newline, stays under MemoryMax and serves every scrape', async () => {
    const r = await runSoak({
      entry: ['--import', 'tsx', fileURLToPath(new URL('./cli.ts', import.meta.url))],
      nodeFlags: unitNodeFlags(),
      env: unitEnvironment(),
      minDurationMs: 5_000,
      maxDurationMs: 90_000,
      attackConnections: 80,
      longLineBytes: 160 * 1024 * 1024,
      logInterval: '250ms',
      scrapeIntervalMs: 250,
    });
    const cap = unitMemoryMaxBytes();
    expect(cap).toBe(160 * 1024 * 1024);
    expect(r.peakRss, `peak RSS ${(r.peakRss / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(cap);
    expect(r.longLineReadAtMs, 'the line after the runaway one was never counted').not.toBeNull();
    expect(seriesValue(r.metrics, 'till_log_lines_truncated_total{log="pos"}')).toBe(1);

    expect(r.scrapes.length).toBeGreaterThan(10);
    expect(r.scrapes.filter((s) => s.status !== 200)).toEqual([]);
    expect(r.attack.requests).toBeGreaterThan(100);
    expect(Object.keys(r.attack.byStatus)).toEqual(['401']);

    // bcrypt work is bounded by the exporter's check budget, not by how hard it is pushed.
    const checks = seriesValue(
      r.metrics,
      'till_exporter_http_auth_failures_total{reason="wrong_credentials"}',
    );
    const budget =
      DEFAULT_AUTH_LIMITS.checkBurst + (DEFAULT_AUTH_LIMITS.checksPerSecond * r.durationMs) / 1000;
    expect(checks).toBeGreaterThan(0);
    expect(checks).toBeLessThanOrEqual(Math.ceil(budget));
    expect(
      seriesValue(r.metrics, 'till_exporter_http_auth_failures_total{reason="rate_limited"}'),
    ).toBeGreaterThan(r.attack.requests / 2);
    // Longer than the soak's own 90 s bound, so the harness always ends and cleans up first.
  }, 150_000);
});
