// The prediction-quality run in small (12 tills, 64 days at 30-minute samples) on the tuning scenario, whose
// faults carry exactly the precursors the thresholds were chosen for: the lead times are hand-computed.
// bench/quality.bench.ts runs the evaluation scenario over several seeds.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tillwatch/config';
import { medianLead, measureQuality, notificationsOf, poissonRate } from './quality.js';
import { generateFleet } from './fleet.js';
import { loadScenario } from './scenario.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RULES = fileURLToPath(new URL('../../rules', import.meta.url));
const H = 3_600_000;

describe('prediction quality of rules/*.yml on a synthetic fleet', () => {
  it('alerts every precursor fault of the tuning fleet before it stops sales, with the lead times the thresholds promise', async () => {
    const tuning = loadScenario('tuning').scenario;
    const q = await measureQuality(
      [RULES],
      { ...tuning, tills: 12, faultShare: 0.5 },
      { seed: 42, endMs: Date.UTC(2026, 9, 1) },
    );
    expect(q.report.alerts.filter((a) => a.error)).toEqual([]);
    // The shift habit's record is rebuilt from its expression (the history has no recorded series).
    expect(q.report.records.rebuilt).toContain('till:fiscal_shift_age_seconds:max1d');
    // Six faulty tills, one per kind: five with precursors and the registrar that dies without warning.
    const classes = Object.entries(q.byClass).filter(([, f]) => f.faults.usable + f.faults.none > 0);
    expect(classes.map(([c]) => c).sort()).toEqual([
      'egais.certificate_expiry',
      'fiscal.clock_drift',
      'fiscal.fn_expiry',
      'fiscal.ofd_backlog',
      'fiscal.registrar_down',
      'system.disk_full',
    ]);
    expect(q.recallBeforeCritical).toBe(1);
    // Hand-computed at the 30-minute evaluation step: the 30-day FN and 60-day certificate alerts are true from
    // the first evaluation inside the window and fire one evaluation later (`for: 10m`); the first OFD alert
    // anyone is told of (the day-old one is info, on the wall only) is true from one step after the backlog
    // turns three days old and fires a step later.
    expect(medianLead(q.byClass['fiscal.fn_expiry'])).toBe(30 * 24 * H - 0.5 * H);
    expect(medianLead(q.byClass['egais.certificate_expiry'])).toBe(60 * 24 * H - 0.5 * H);
    expect(medianLead(q.byClass['fiscal.ofd_backlog'])).toBe(27 * 24 * H - 1 * H);
    // Clock drifting 3 s/h from 0: over 60 s after 20 h, critical (300 s) at 100 h; fires one step after 20 h.
    expect(medianLead(q.byClass['fiscal.clock_drift'])).toBe(79 * H);
    // Disk: each half of the 6 h window says "full within 24 h" a day before the disk is full, then `for: 1h`.
    expect(medianLead(q.byClass['system.disk_full'])).toBeGreaterThan(20 * H);
    expect(medianLead(q.byClass['system.disk_full'])).toBeLessThan(24 * H);
    // The sudden fault is caught once it happens (one evaluation step later), not before.
    expect(q.byClass['fiscal.registrar_down']).toMatchObject({ detected: 1, beforeCritical: { none: 0 } });
    expect(q.falseAlarmsByAlert).toEqual({});
    expect(q.falseAlarmsPer1000TillsPerDay).toBeLessThan(1);
  });

  it('the evaluation fleet keeps what it models: a till off every night is in a store that closes, a glitch is one poll', () => {
    const { scenario } = loadScenario('evaluation');
    const step = scenario.sampleMinutes * 60_000;
    let steps = 0;
    for (const seed of [1, 2, 3]) {
      const fleet = generateFleet(scenario, { seed, endMs: Date.parse('2026-12-01T00:00:00Z') });
      // A till that grows its disk a step each evening is switched off at night: never in a 24-hour store,
      // where a till gone dark at night is rightly paged (its calendar says the store is open).
      for (const i of fleet.incidents)
        if (fleet.truth.get(i.id)!.kind === 'disk_steps') {
          steps++;
          expect(fleet.noise.get(i.till ?? '')!.map((n) => n.what)).not.toContain('24-hour store');
        }
      // A registrar spike (120 s) and a bad SNTP answer (400 s) are one poll each: never in adjacent samples
      // of one till, where together they would read as an offset held for an hour.
      const glitches = (name: string, bad: (v: number) => boolean) =>
        new Map(
          fleet.series
            .filter((x) => x.name === name)
            .map((x) => [x.labels.till, new Set([...x.samples].filter(([, v]) => bad(v)).map(([t]) => t))]),
        );
      const spikes = glitches(
        'till_fiscal_clock_offset_seconds',
        (v) => v === scenario.noise.clockSpike.seconds,
      );
      const answers = glitches('till_clock_offset_seconds', (v) => v === 400);
      let seen = 0;
      for (const [till, ts] of answers)
        for (const t of ts) {
          seen++;
          const s = spikes.get(till)!;
          expect(s.has(t - step) || s.has(t + step)).toBe(false);
        }
      expect(seen).toBeGreaterThan(0);
    }
    expect(steps).toBeGreaterThan(0);
  });

  it("the exporter's disposable folders hold the temp files and the job-cleaned fills, never a fault's fill, on the same fleet", () => {
    const { scenario } = loadScenario('evaluation');
    const endMs = Date.parse('2026-12-01T00:00:00Z');
    const fleet = generateFleet({ ...scenario, disposable: true }, { seed: 4, endMs });
    const without = generateFleet({ ...scenario, disposable: false }, { seed: 4, endMs });
    // The folders change nothing else: the same faults, noise and free space as the fleet without them.
    const rest = (f: typeof fleet) => f.series.filter((x) => x.name !== 'till_disposable_bytes');
    expect(rest(fleet)).toEqual(rest(without));
    expect(without.series.some((x) => x.name === 'till_disposable_bytes')).toBe(false);
    const peak = new Map(
      fleet.series
        .filter((x) => x.name === 'till_disposable_bytes')
        .map((x) => [x.labels.till!, Math.max(0, ...[...x.samples].map(([, v]) => v))]),
    );
    const kinds = { fault: 0, job: 0, person: 0 };
    for (const i of fleet.incidents) {
      const kind = fleet.truth.get(i.id)!.kind;
      if (kind !== 'disk_fill' && kind !== 'disk_steps') continue;
      kinds.fault++;
      expect(peak.get(i.till!), `${i.till} ${kind}`).toBe(0);
    }
    // Files show in the folders only on tills with temp-file bursts or a job-cleaned fill (a burst that falls
    // between two samples, or while its till is off, shows nowhere); a fill a person cleans is never there.
    for (const [till, p] of peak) {
      const what = (fleet.noise.get(till) ?? []).map((n) => n.what);
      const listed =
        what.includes('disk filled and cleaned by a job') || what.includes('disk burst deleted at night');
      if (p > 0) {
        expect(listed, `${till}: ${what.join(', ')}`).toBe(true);
        kinds.job++;
      }
      if (what.includes('disk filled and cleaned') && !listed) {
        kinds.person++;
        expect(p, till).toBe(0);
      }
    }
    expect(kinds.fault).toBeGreaterThan(0);
    expect(kinds.job).toBeGreaterThan(0);
    expect(kinds.person).toBeGreaterThan(0);
  });

  it('names the file and key of a bad scenario', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tillwatch-scenario-')), 'bad.yml');
    writeFileSync(
      file,
      'name: x\ndescription: y\ntills: 10\ndays: 30\nsampleMinutes: 30\nfaultShare: 0.5\nusablePrecursorHours: 2\nfaults:\n  disk_fill: { weight: 1, hours: [72, 1] }\n',
    );
    expect(() => loadScenario(file)).toThrow(ConfigError);
    expect(() => loadScenario(file)).toThrow(/bad\.yml: days: .*65/);
    expect(() => loadScenario(file)).toThrow(
      /bad\.yml: faults\.disk_fill\.hours: expected \[min, max\] with min <= max/,
    );
  });

  describe('counts false alarms as people are told of them', () => {
    const D = 24 * H;
    const step = H / 2;
    // A till switched off 22:00-08:00 in a store closed then (day 0 starts at midnight).
    const dark = (till: string, t: number) => till === 'off' && (t % D >= 22 * H || t % D < 8 * H);
    const ep = (alert: string, till: string, start: number, end: number, cls = 'fiscal.ofd_backlog') => ({
      alert,
      labels: { chain: 'c', region: 'r', store: 's', till, device: 'fiscal', incident_class: cls },
      activeAt: start - step,
      start,
      end,
      open: false,
      matched: false,
    });
    const keyOf = (l: Record<string, string>) => `${l.incident_class}|${l.till}`;
    const count = (eps: ReturnType<typeof ep>[], held: string[]) =>
      notificationsOf(eps, { keyOf, heldAlerts: new Set(held), dark, stepMs: step }).length;

    it('one ticket for overlapping firings of one problem, two for firings apart', () => {
      const aging = ep('Aging', 'on', 10 * H, 40 * H);
      expect(count([aging, ep('Forecast', 'on', 30 * H, 40 * H)], [])).toBe(1);
      expect(count([aging, ep('Forecast', 'on', 41 * H, 45 * H)], [])).toBe(2);
      // Another till or another incident class is another ticket.
      expect(count([aging, ep('Forecast', 'other', 30 * H, 40 * H)], [])).toBe(2);
      expect(count([aging, ep('Disk', 'on', 30 * H, 40 * H, 'system.disk_full')], [])).toBe(2);
    });

    it("a held alert's firing through a closed store's night is one ticket; an unheld one's is two", () => {
      // Resolved when the till went dark at 22:00, firing again once it reports at 08:00 (active at 08:00).
      const evening = ep('Aging', 'off', 12 * H, 22 * H);
      const morning = ep('Aging', 'off', 32 * H + step, 40 * H);
      expect(count([evening, morning], ['Aging'])).toBe(1);
      expect(count([evening, morning], [])).toBe(2);
      // A till that reports all night: the resolve was real.
      expect(
        count([ep('Aging', 'on', 12 * H, 22 * H), ep('Aging', 'on', 32 * H + step, 40 * H)], ['Aging']),
      ).toBe(2);
      // Resolved at 20:00 while the till still reported: a new problem in the morning.
      expect(count([ep('Aging', 'off', 12 * H, 20 * H), morning], ['Aging'])).toBe(2);
    });

    it('a ticket with a firing matched to a fault is no false alarm', () => {
      const n = notificationsOf(
        [ep('Aging', 'on', 10 * H, 40 * H), { ...ep('Forecast', 'on', 30 * H, 50 * H), matched: true }],
        {
          keyOf,
          heldAlerts: new Set(),
          dark,
          stepMs: step,
        },
      );
      expect(n.map((x) => x.matched)).toEqual([true]);
    });
  });

  describe('the pooled false-alarm rate and its 95 % interval', () => {
    it('gives the exact (Garwood) bounds of a Poisson count, scaled to the exposure', () => {
      // Published two-sided 95 % limits for a Poisson mean: 0 -> 0-3.689, 1 -> 0.0253-5.572, 10 -> 4.795-18.39.
      const near = (r: { rate: number; low: number; high: number }, want: [number, number, number]) =>
        [r.rate, r.low, r.high].forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 3));
      near(poissonRate(0, 1), [0, 0, 3.689]);
      near(poissonRate(1, 1), [1, 0.0253, 5.572]);
      near(poissonRate(10, 1), [10, 4.795, 18.39]);
      // 29 false alarms in 23,040 till-days: per 1,000 till-days.
      near(poissonRate(29, 23.04), [1.2587, 0.843, 1.808]);
      // The interval narrows as the count grows at the same rate.
      const small = poissonRate(5, 5);
      const large = poissonRate(500, 500);
      expect(large.high - large.low).toBeLessThan((small.high - small.low) / 5);
    });

    it('refuses a count or an exposure that is no count', () => {
      expect(() => poissonRate(-1, 1)).toThrow(/whole count >= 0/);
      expect(() => poissonRate(1.5, 1)).toThrow(/whole count/);
      expect(() => poissonRate(3, 0)).toThrow(/exposure > 0/);
    });
  });
});
