// A synthetic fleet history with a known ground truth, for measuring how well the shipped rules predict:
// each faulty till gets one fault that becomes critical (stops sales) at a known moment, with or without a
// precursor in the metrics; every till carries the noise its scenario (scenario.ts) asks for: things a real
// fleet does that must not page anyone, and precursors that clear by themselves.
import type { backtesting } from '@tillwatch/ops';
import { seededRandom, type Series } from '@tillwatch/testkit';
import type { FaultKind, Scenario } from './scenario.js';

type Incident = backtesting.Incident;

/** How much warning the metrics give of a fault (see Scenario.usablePrecursorHours). */
export type Precursor = 'usable' | 'weak' | 'none';

export interface FaultTruth {
  kind: FaultKind;
  /** How long before the critical moment the fault shows in the metrics (0: not at all). */
  precursorMs: number;
  precursor: Precursor;
}

export interface Noise {
  what: string;
  /** The incident class it can be taken for; '' for what touches every class (off at night). */
  incidentClass: string;
}

export interface Fleet {
  /** Start of the history; the backtest starts WARMUP later, at measureFromMs. */
  fromMs: number;
  measureFromMs: number;
  toMs: number;
  series: Series[];
  incidents: Incident[];
  /** Per incident id: which fault it is and how much warning it gave. */
  truth: Map<string, FaultTruth>;
  /** Per till: the noise it carries, by the incident class it looks like (what raised a false alarm). */
  noise: Map<string, Noise[]>;
  tills: string[];
  /**
   * Per till: whether at time t it is switched off while its calendar says the store is closed, the gap the
   * rules' `*:held` records bridge (always false without calendars: then nothing is held).
   */
  dark: (till: string, t: number) => boolean;
}

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const GB = 1e9;
const MODELS = ['ШТРИХ-М-01Ф', 'АТОЛ 30Ф', 'АТОЛ 91Ф'];
/**
 * The first two days are history only: rules that compare with yesterday (the shift habit, the clock's daily
 * change) need them, as after a fresh install. Faults start after them and measurement starts there.
 */
export const WARMUP = 2 * DAY;
export const INCIDENT_CLASS: Record<FaultKind, string> = {
  fn_expiry: 'fiscal.fn_expiry',
  certificate_expiry: 'egais.certificate_expiry',
  ofd_stuck: 'fiscal.ofd_backlog',
  disk_fill: 'system.disk_full',
  disk_steps: 'system.disk_full',
  disk_sudden: 'system.disk_full',
  registrar_clock_drift: 'fiscal.clock_drift',
  registrar_clock_jump: 'fiscal.clock_drift',
  host_clock_unsynced: 'system.clock_offset',
  shift_forgotten: 'fiscal.shift_24h',
  registrar_down: 'fiscal.registrar_down',
};

/** Fault kinds in proportion to their weights (largest remainder), shuffled over the faulty tills. */
function faultKinds(s: Scenario, n: number, rand: () => number): FaultKind[] {
  const kinds = (Object.keys(s.faults) as FaultKind[]).filter((k) => s.faults[k].weight > 0);
  const total = kinds.reduce((a, k) => a + s.faults[k].weight, 0);
  if (total === 0 || n === 0) return [];
  const exact = kinds.map((k) => (n * s.faults[k].weight) / total);
  const counts = exact.map(Math.floor);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  for (let r = n - counts.reduce((a, b) => a + b, 0), j = 0; r > 0; r--, j++) counts[order[j]![1]]! += 1;
  const out = kinds.flatMap((k, i) => Array<FaultKind>(counts[i]!).fill(k));
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function generateFleet(s: Scenario, o: { endMs: number; seed: number }): Fleet {
  const rand = seededRandom(o.seed);
  // Draws added after the fleet was first measured come from their own stream, so that every earlier draw,
  // and with it the fleet, stays what it was.
  const randCleanup = seededRandom(o.seed + 7_919);
  const step = s.sampleMinutes * MIN;
  const toMs = Math.floor(o.endMs / step) * step;
  const fromMs = toMs - s.days * DAY;
  /** Where the backtest starts (see WARMUP). */
  const measureFrom = fromMs + WARMUP;
  const times: number[] = [];
  for (let t = fromMs; t <= toMs; t += step) times.push(t);
  /** A time in [a, b) on the sample grid. */
  const at = (a: number, b: number) => Math.floor((a + rand() * (b - a)) / step) * step;
  const uniform = ([a, b]: readonly [number, number]) => a + rand() * (b - a);
  const dayOf = (t: number) => Math.floor((t - fromMs) / DAY);
  /** A draw per sample that is true with probability p, never twice in a row. */
  const isolated = (p: number) => {
    let last = false;
    return () => (last = !last && p > 0 && rand() < p);
  };
  const timeOfDay = (t: number) => (t - fromMs) % DAY;

  const faulty = Math.round(s.tills * s.faultShare);
  const kinds = faultKinds(s, faulty, rand);
  const order = Array.from({ length: s.tills }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const faultOf = new Map<number, FaultKind>(kinds.map((k, n) => [order[n]!, k]));

  const series: Series[] = [];
  const incidents: Incident[] = [];
  const truth = new Map<string, FaultTruth>();
  const tills: string[] = [];
  const noiseOf = new Map<string, Noise[]>();
  const stores = new Map<string, { is24h: boolean; offAtNight: boolean }>();
  const calendarsDone = new Set<string>();
  const darkOf = new Map<string, (t: number) => boolean>();

  for (let i = 0; i < s.tills; i++) {
    const store = `store-${String(Math.floor(i / 2) + 1).padStart(4, '0')}`;
    const till = `${store}-t${(i % 2) + 1}`;
    tills.push(till);
    const base = {
      chain: 'synthetic',
      region: `r${(Math.floor(i / 2) % 5) + 1}`,
      store,
      till,
      // A label only (nothing scrapes it), unique per till.
      instance: `127.0.0.1:${10_000 + i}`,
      job: 'tillwatch-exporter',
    };
    if (!stores.has(store)) {
      const is24h = rand() < s.noise.store24h;
      const offAtNight = !is24h && rand() < s.noise.offAtNight;
      // A till switched off every evening (the disk_steps fault) belongs to a store that closes at night: a
      // 24-hour store that switched a till off each night without its calendar saying so would be paged
      // rightly, so placing that fault there measured the inventory's gap, not the rules (docs/benchmarks.md,
      // "Store hours"). The draws stay the same, so every other till keeps its noise.
      const stepsHere = faultOf.get(i) === 'disk_steps' || faultOf.get(i + 1) === 'disk_steps';
      stores.set(store, { is24h: is24h && !stepsHere, offAtNight });
    }
    const kind = faultOf.get(i);
    const place = stores.get(store)!;
    const noise: Noise[] = [];
    noiseOf.set(till, noise);
    const noisy = (what: string, incidentClass: string) => noise.push({ what, incidentClass });
    if (place.is24h) noisy('24-hour store', 'fiscal.shift_24h');
    if (place.offAtNight) noisy('off at night', '');
    // A till that loses a step every evening is one that is switched off at night.
    const offAtNight = place.offAtNight || kind === 'disk_steps';
    const reports = (t: number) => !offAtNight || (timeOfDay(t) >= 8 * HOUR && timeOfDay(t) < 22 * HOUR);
    const storeOpen = (t: number) => place.is24h || (timeOfDay(t) >= 8 * HOUR && timeOfDay(t) < 22 * HOUR);
    darkOf.set(till, (t) => s.calendars && !reports(t) && !storeOpen(t));
    // What Prometheus records of the scrape itself: 0 while the till is switched off.
    series.push({ name: 'up', labels: base, samples: times.map((t) => [t, reports(t) ? 1 : 0]) });
    if (s.calendars && !calendarsDone.has(store)) {
      calendarsDone.add(store);
      const open = storeOpen;
      series.push({
        name: 'tillwatch_store_open',
        labels: {
          chain: base.chain,
          region: base.region,
          store,
          instance: '127.0.0.1:9841',
          job: 'tillwatch-calendar',
        },
        samples: times.map((t) => [t, open(t) ? 1 : 0]),
      });
    }
    const push = (name: string, labels: Record<string, string>, value: (t: number) => number | undefined) => {
      const samples: Array<[number, number]> = [];
      for (const t of times) {
        if (!reports(t)) continue;
        const v = value(t);
        if (v !== undefined) samples.push([t, v]);
      }
      series.push({ name, labels: { ...base, ...labels }, samples });
    };
    const incident = (criticalAt: number, end: number, precursorMs: number, usableNeedsReports = false) => {
      const k = kind!;
      const id = `${till}/${k}`;
      incidents.push({
        id,
        chain: base.chain,
        region: base.region,
        store,
        till,
        incidentClass: INCIDENT_CLASS[k],
        start: criticalAt,
        criticalAt,
        end,
      });
      const long = precursorMs >= s.usablePrecursorHours * HOUR && (!usableNeedsReports || !offAtNight);
      truth.set(id, {
        kind: k,
        precursorMs,
        precursor: precursorMs === 0 ? 'none' : long ? 'usable' : 'weak',
      });
    };
    const fiscal = { device: 'fiscal' };

    // FN: a healthy drive has 120..400 days left; a faulty one expires in the history and is replaced a day later.
    let fnExpiry = toMs + at(120 * DAY, 400 * DAY);
    let fnReplaced = Infinity;
    if (kind === 'fn_expiry') {
      fnExpiry = at(fromMs + 32 * DAY, toMs - 2 * DAY);
      fnReplaced = fnExpiry + DAY;
      incident(fnExpiry, fnReplaced, 30 * DAY);
    }
    const fnNext = fnReplaced + 15 * 30 * DAY;
    push(
      'till_fiscal_fn_expiry_timestamp_seconds',
      fiscal,
      (t) => (t < fnReplaced ? fnExpiry : fnNext) / 1000,
    );

    // UTM certificate.
    let cert = toMs + at(90 * DAY, 300 * DAY);
    let certRenewed = Infinity;
    if (kind === 'certificate_expiry') {
      cert = at(fromMs + WARMUP + 61 * DAY, toMs - 2 * DAY);
      certRenewed = cert + DAY;
      incident(cert, certRenewed, 60 * DAY);
    }
    const certNext = certRenewed + 365 * DAY;
    push(
      'till_utm_certificate_expiry_timestamp_seconds',
      { device: 'utm', certificate: 'gost' },
      (t) => (t < certRenewed ? cert : certNext) / 1000,
    );

    // OFD: a one-to-two-hour backlog once a day; a stuck link keeps its oldest document for 30 days, when the
    // FN blocks (critical), and is fixed a day later; an outage that recovers by itself is noise.
    let stuck: [number, number] | undefined;
    if (kind === 'ofd_stuck') {
      const start = at(fromMs + WARMUP, toMs - 32 * DAY);
      stuck = [start, start + 31 * DAY];
      incident(start + 30 * DAY, start + 31 * DAY, 30 * DAY);
    }
    let outage: [number, number] | undefined;
    if (kind !== 'ofd_stuck' && rand() < s.noise.ofdOutage.share) {
      const start = at(fromMs + DAY, toMs - 5 * DAY);
      outage = [start, start + Math.round(uniform(s.noise.ofdOutage.hours) * 2) * (HOUR / 2)];
      noisy('OFD outage that recovered', 'fiscal.ofd_backlog');
    }
    const dailyOffset = at(0, 20 * HOUR);
    push('till_fiscal_ofd_oldest_unsent_timestamp_seconds', fiscal, (t) => {
      if (stuck && t >= stuck[0] && t < stuck[1]) return stuck[0] / 1000;
      if (outage && t >= outage[0] && t < outage[1]) return outage[0] / 1000;
      const dayStart = fromMs + dayOf(t) * DAY + (dailyOffset % DAY);
      return t >= dayStart && t < dayStart + 2 * HOUR ? dayStart / 1000 : undefined;
    });

    // Disk: healthy tills keep 40..70 % free, use 1 % a day and are cleaned every midnight.
    const size = rand() < s.noise.smallDisk ? 32 * GB : 120 * GB;
    const free0 = 0.4 + rand() * 0.3;
    /** Free space at t after the effect, and the bytes of it that are in folders the till's cleanup empties. */
    type Effect = (t: number, free: number) => number | { free: number; disposable: number };
    const effects: Effect[] = [];
    // Noise of a fault's own kind stays off its till, so it is never taken for the fault's warning.
    const diskFault = kind !== undefined && INCIDENT_CLASS[kind] === 'system.disk_full';
    if (kind === 'disk_fill') {
      const hours = uniform(s.faults.disk_fill.hours);
      const full = at(fromMs + WARMUP + DAY + hours * HOUR, toMs - DAY);
      const start = full - hours * HOUR;
      effects.push((t, free) =>
        t >= start && t < full + 2 * HOUR ? Math.max(0, free * (1 - (t - start) / (full - start))) : free,
      );
      incident(full, full + 2 * HOUR, full - start, true);
    } else if (kind === 'disk_sudden') {
      const full = at(fromMs + WARMUP + DAY, toMs - DAY);
      effects.push((t, free) => (t >= full && t < full + 2 * HOUR ? 0 : free));
      incident(full, full + 2 * HOUR, 0);
    } else if (kind === 'disk_steps') {
      const g = uniform(s.faults.disk_steps.stepGb) * GB;
      const n = Math.ceil((size * free0) / g);
      const lastDay = Math.min(s.days - 2, n + 2 + Math.floor(rand() * Math.max(1, s.days - n - 4)));
      const firstDay = lastDay - n + 1;
      const stepAt = (k: number) => fromMs + (firstDay + k) * DAY + 21 * HOUR;
      const full = stepAt(n - 1);
      effects.push((t, free) => {
        if (t >= full + 12 * HOUR || t < stepAt(0)) return free;
        const steps = Math.max(0, Math.floor((t - stepAt(0)) / DAY) + 1);
        return Math.max(0, size * free0 - steps * g);
      });
      incident(full, full + 12 * HOUR, full - stepAt(0));
    }
    if (!diskFault && rand() < s.noise.diskBurst.share) {
      const start = at(fromMs + DAY, toMs - 2 * DAY);
      const midnight = fromMs + (dayOf(start) + 1) * DAY;
      noisy('disk burst deleted at night', 'system.disk_full');
      const part = uniform(s.noise.diskBurst.percent) / 100;
      const hours = uniform(s.noise.diskBurst.hours);
      // Temporary files in the POS's temp folder, which it empties at midnight.
      effects.push((t, free) => {
        if (t < start || t >= midnight) return free;
        const burst = part * size * Math.min(1, (t - start) / (hours * HOUR));
        return { free: free - burst, disposable: burst };
      });
    }
    if (rand() < s.noise.download.share) {
      noisy('download', 'system.disk_full');
      const count = 1 + Math.floor(rand() * 2);
      for (let d = 0; d < count; d++) {
        const start = at(fromMs + DAY, toMs - 2 * DAY);
        const gb = uniform(s.noise.download.gb) * GB;
        const keep = uniform(s.noise.download.keepHours) * HOUR;
        effects.push((t, free) =>
          t >= start && t < start + 20 * MIN + keep
            ? free - gb * Math.min(1, (t - start + step) / (20 * MIN + step))
            : free,
        );
      }
    }
    if (!diskFault && rand() < s.noise.diskFillCleaned.share) {
      // Files a cleanup job deletes when free space falls to its threshold, in a folder the exporter lists; the
      // rest are cleaned by a person, from a folder nobody lists.
      const byCleanup = randCleanup() < s.noise.diskFillCleaned.byCleanup;
      noisy(byCleanup ? 'disk filled and cleaned by a job' : 'disk filled and cleaned', 'system.disk_full');
      const hours = uniform(s.noise.diskFillCleaned.hours);
      const cleanAt = uniform(s.noise.diskFillCleaned.cleanAtPercent) / 100;
      const start = at(fromMs + DAY, toMs - 3 * DAY);
      effects.push((t, free) => {
        if (t < start) return free;
        const f = free - (free / size - cleanAt) * size * ((t - start) / (hours * HOUR));
        if (f <= cleanAt * size) return free;
        return byCleanup ? { free: f, disposable: free - f } : f;
      });
    }
    const steps = kind === 'disk_steps';
    push('till_filesystem_size_bytes', { mountpoint: '/' }, () => size);
    const disk = (t: number) => {
      // A till that grows in steps is not cleaned every night.
      let free = steps ? size * free0 : size * (free0 - (0.01 * timeOfDay(t)) / DAY);
      let disposable = 0;
      for (const e of effects) {
        const r = e(t, free);
        if (typeof r === 'number') free = r;
        else {
          free = r.free;
          disposable += r.disposable;
        }
      }
      return { free: Math.max(0, Math.round(free)), disposable: Math.round(disposable) };
    };
    push('till_filesystem_avail_bytes', { mountpoint: '/' }, (t) => disk(t).free);
    // The exporter lists the folders the till's cleanups empty (the chain's exporter config, the same on every
    // till): the POS's temp folder and the low-space cleanup's folder.
    if (s.disposable)
      push('till_disposable_bytes', { mountpoint: '/', name: 'pos_temp' }, (t) => disk(t).disposable);

    // Registrar clock (minus the till's): a few seconds of jitter and rare one-sample spikes that `for` must
    // absorb; a failing clock battery drifts until the FN rejects documents at 300 s, or it jumps at once.
    let drift: { start: number; critical: number; rate: number } | undefined;
    let jump: number | undefined;
    if (kind === 'registrar_clock_drift') {
      const rate = uniform(s.faults.registrar_clock_drift.secondsPerHour);
      const lead = (300 / rate) * HOUR;
      const critical = at(fromMs + WARMUP + lead + DAY, toMs - DAY);
      drift = { start: critical - lead, critical, rate };
      incident(critical, critical + HOUR, lead, true);
    } else if (kind === 'registrar_clock_jump') {
      jump = at(fromMs + WARMUP + DAY, toMs - DAY);
      incident(jump, jump + HOUR, 0);
    }
    // A spike is one poll: never two samples in a row.
    const spike = isolated(s.noise.clockSpike.perSample);
    const spikes = new Set<number>();
    push('till_fiscal_clock_offset_seconds', fiscal, (t) => {
      if (drift && t >= drift.start && t < drift.critical + HOUR)
        return Math.round(((t - drift.start) / HOUR) * drift.rate);
      if (jump !== undefined && t >= jump && t < jump + HOUR) return 400;
      if (!spike()) return Math.round((rand() - 0.5) * 6);
      spikes.add(t);
      return s.noise.clockSpike.seconds;
    });

    // The till's clock against NTP: Windows tills drift between weekly syncs (a sawtooth); the fault is a sync
    // that stops, after which the clock drifts until it is 300 s off.
    const windows = kind === 'host_clock_unsynced' || rand() < s.noise.windowsClock.share;
    const perDay = windows
      ? kind === 'host_clock_unsynced'
        ? uniform(s.faults.host_clock_unsynced.secondsPerDay)
        : uniform(s.noise.windowsClock.secondsPerDay)
      : 0;
    const syncPhase = at(0, 7 * DAY);
    let syncStops = Infinity;
    let hostCritical = Infinity;
    if (kind === 'host_clock_unsynced') {
      const lead = (300 / perDay) * DAY;
      hostCritical = at(fromMs + 8 * DAY + lead, toMs - DAY);
      // The last sync before the critical moment is the one that did not happen again.
      syncStops = hostCritical - lead;
      incident(hostCritical, hostCritical + 2 * HOUR, lead);
    }
    const badAnswer = isolated(s.noise.badSntp.perSample);
    // A bad answer is one poll too, and so never in the sample next to a registrar spike: at this resolution two
    // one-poll glitches of the till's clocks 30 minutes apart would read as one offset held for an hour, which
    // no real till shows (between them, hundreds of good polls; the rules' `for` absorbs each).
    const glitchNextTo = (t: number) => spikes.has(t - step) || spikes.has(t + step);
    if (windows && kind !== 'host_clock_unsynced') noisy('Windows weekly clock sync', 'system.clock_offset');
    push('till_clock_offset_seconds', {}, (t) => {
      if (badAnswer() && !glitchNextTo(t)) return 400;
      if (!windows) return 0;
      if (t >= syncStops && t < hostCritical + 2 * HOUR)
        return Math.round(((t - syncStops) / DAY) * perDay * 10) / 10;
      // Fixed: the clock syncs properly from then on.
      if (t >= hostCritical + 2 * HOUR) return 0;
      const sinceSync = (((t - fromMs - syncPhase) % (7 * DAY)) + 7 * DAY) % (7 * DAY);
      return Math.round((sinceSync / DAY) * perDay * 10) / 10;
    });

    // Fiscal shift: stores open 08:00..22:00 close it every evening; 24-hour stores at the same age just
    // before 24 h. The fault: one day nobody closes it, and the registrar refuses sales at 24 h.
    const closeAge = place.is24h ? 23 * HOUR + 40 * MIN + Math.floor(rand() * 3) * 5 * MIN : 14 * HOUR;
    const openAt = place.is24h ? 0 : 8 * HOUR;
    let forgotten = -1;
    if (kind === 'shift_forgotten') {
      forgotten = 8 + Math.floor(rand() * (s.days - 10));
      const opened = fromMs + forgotten * DAY + openAt;
      // Seen once the usual closing has passed without a close (and while the till reports).
      incident(opened + DAY, opened + DAY + HOUR, DAY - closeAge, true);
    }
    const shift = (t: number): { open: boolean; opened: number; expired: boolean } => {
      const day = dayOf(t);
      const tod = timeOfDay(t);
      if (forgotten >= 0 && day >= forgotten && t < fromMs + forgotten * DAY + openAt + DAY + HOUR) {
        const opened = fromMs + forgotten * DAY + openAt;
        if (t >= opened) return { open: true, opened, expired: t - opened >= DAY };
      }
      const today = fromMs + day * DAY + openAt;
      if (tod >= openAt && tod < openAt + closeAge) return { open: true, opened: today, expired: false };
      return { open: false, opened: tod >= openAt ? today : today - DAY, expired: false };
    };
    push('till_fiscal_shift_open', fiscal, (t) => (shift(t).open ? 1 : 0));
    push(
      'till_fiscal_shift_opened_timestamp_seconds',
      fiscal,
      (t) => Math.max(shift(t).opened, fromMs) / 1000,
    );
    push('till_fiscal_shift_expired', fiscal, (t) => (shift(t).expired ? 1 : 0));

    // The registrar; the fault without a precursor drops it for three hours.
    let down: [number, number] | undefined;
    if (kind === 'registrar_down') {
      const start = at(fromMs + WARMUP + DAY, toMs - DAY);
      down = [start, start + 3 * HOUR];
      incident(start, start + 3 * HOUR, 0);
    }
    push('till_device_up', { ...fiscal, kind: 'fiscal' }, (t) =>
      down && t >= down[0] && t < down[1] ? 0 : 1,
    );
    push(
      'till_fiscal_info',
      {
        ...fiscal,
        driver: 'shtrih',
        model: MODELS[i % MODELS.length]!,
        serial: String(1000 + i),
        fn_serial: String(9000 + i),
        firmware: '1',
      },
      () => 1,
    );
  }
  const dark = (till: string, t: number) => darkOf.get(till)?.(t) ?? false;
  return { fromMs, measureFromMs: measureFrom, toMs, series, incidents, truth, noise: noiseOf, tills, dark };
}
