// The prediction-quality run in small (12 tills, 64 days at 30-minute samples): the shipped rules
// backtested over backfilled history whose faults are known. bench/quality.bench.ts runs the large one.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { measureQuality } from './quality.js';
import { PRECURSOR_CLASSES } from './fleet.js';

const RULES = fileURLToPath(new URL('../../rules', import.meta.url));
const H = 3_600_000;

describe('prediction quality of rules/*.yml on a synthetic fleet', () => {
  it('alerts every precursor fault before it stops sales, with the lead times the thresholds promise', async () => {
    const q = await measureQuality([RULES], {
      tills: 12,
      days: 64,
      intervalMs: 30 * 60_000,
      endMs: Date.UTC(2026, 9, 1),
      faultShare: 0.5,
    });
    expect(q.report.alerts.filter((a) => a.error)).toEqual([]);
    // Six faulty tills, one per class: five with precursors and the registrar that dies without warning.
    expect(q.incidents).toBe(6);
    expect(q.precursorFaults).toBe(PRECURSOR_CLASSES.length);
    expect(q.alertedBeforeCritical).toBe(1);
    // Hand-computed at the 30-minute evaluation step: the 30-day FN and 60-day certificate alerts are true from
    // the first evaluation inside the window and fire one evaluation later (`for: 10m`); the OFD alert is
    // true from one step after the backlog turns one day old and fires a step later.
    expect(q.medianLeadMs['fiscal.fn_expiry']).toBe(30 * 24 * H - 0.5 * H);
    expect(q.medianLeadMs['egais.certificate_expiry']).toBe(60 * 24 * H - 0.5 * H);
    expect(q.medianLeadMs['fiscal.ofd_backlog']).toBe(29 * 24 * H - 1 * H);
    // Clock drifting 3 s/h from 0: over 60 s after 20 h, critical (300 s) at 100 h; fires one step after 20 h.
    expect(q.medianLeadMs['fiscal.clock_drift']).toBe(79 * H);
    // Disk: the 24 h linear forecast turns negative a day before the disk is full, then `for: 1h`.
    expect(q.medianLeadMs['system.disk_full']).toBeGreaterThan(20 * H);
    expect(q.medianLeadMs['system.disk_full']).toBeLessThan(24 * H);
    // The sudden fault is caught once it happens (one evaluation step later), not before.
    expect(q.suddenFaultsDetected).toBe(1);
    expect(q.falseAlarmsPer1000TillsPerDay).toBeLessThan(1);
  });
});
