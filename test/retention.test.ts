// The shipped Prometheus keeps the history `tillwatch forecast` reads by default: with Prometheus' own
// 15 days, a 90-day forecast would silently rest on 15 (issue 21).
import { describe, expect, it } from 'vitest';
import { parseDuration } from '@tillwatch/config';
import { forecasting } from '@tillwatch/ops';
import { planStack } from '../scripts/stack/index.js';

describe('Prometheus retention of the shipped stack', () => {
  it('keeps at least the forecast default history', () => {
    const prometheus = planStack().services.find((s) => s.name === 'prometheus')!;
    const flag = prometheus.command.find((a) => a.startsWith('--storage.tsdb.retention.time='));
    expect(flag, 'no retention flag: Prometheus keeps 15 days').toBeDefined();
    expect(parseDuration(flag!.split('=')[1]!)).toBeGreaterThanOrEqual(forecasting.DEFAULT_HISTORY_MS);
  });
});
