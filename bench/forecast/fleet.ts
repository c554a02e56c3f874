// A simulated fleet with a known future, for measuring `tillwatch forecast`: the history up to a cut-off
// (what Prometheus holds then: expiry timestamps, the registrar models, ALERTS of past incidents) and what
// then happens over the next weeks (FN replacement visits, certificate renewals, incidents), drawn from
// the same process with the changes a real fleet sees after any cut-off: FNs that fail early, tills that
// close, visits booked days after a replacement is due, incident rates that move.
import { seededRandom, type Series } from '@tillwatch/testkit';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;

export const REGIONS = ['r1', 'r2', 'r3', 'r4', 'r5'];
const REGION_SHARE = [0.35, 0.25, 0.2, 0.12, 0.08];
const MODELS = ['ШТРИХ-М-01Ф', 'АТОЛ 30Ф', 'АТОЛ 91Ф'];

/** Incidents per till per 30 days before the cut-off, by class (and model, where it matters). */
const RATES: Array<{ alertname: string; incidentClass: string; rate: (model: string) => number }> = [
  { alertname: 'TillFiscalPaperOut', incidentClass: 'fiscal.paper_out', rate: () => 0.6 },
  { alertname: 'TillFiscalCoverOpen', incidentClass: 'fiscal.cover_open', rate: () => 0.2 },
  {
    alertname: 'TillFiscalRegistrarDown',
    incidentClass: 'fiscal.registrar_down',
    rate: (m) => (m === 'АТОЛ 30Ф' ? 0.12 : 0.04),
  },
  { alertname: 'TillFiscalClockDrift', incidentClass: 'fiscal.clock_drift', rate: () => 0.03 },
  { alertname: 'TillFiscalFnCriticalError', incidentClass: 'fiscal.fn_critical', rate: () => 0.008 },
];

export interface ForecastFleetOptions {
  tills: number;
  seed: number;
  /** The cut-off: the forecast's --at. */
  atMs: number;
  historyDays: number;
  horizonWeeks: number;
  /**
   * How incident rates move after the cut-off, per class: a factor on the rate (1 = unchanged). A real
   * fleet's rates move with the season, a firmware batch, a paper supplier.
   */
  rateChange: Record<string, number>;
}

export interface FutureEvent {
  region: string;
  atMs: number;
}

export interface ForecastFleet {
  /** The history as Prometheus holds it at the cut-off. */
  series: Series[];
  /** What happened after the cut-off. */
  fnReplacements: FutureEvent[];
  certificateRenewals: FutureEvent[];
  incidents: Array<FutureEvent & { incidentClass: string }>;
  /** Incidents of the history, per class (what the forecast should count). */
  pastIncidents: Record<string, number>;
}

export function generateForecastFleet(o: ForecastFleetOptions): ForecastFleet {
  const rand = seededRandom(o.seed);
  const fromMs = o.atMs - o.historyDays * DAY;
  const endMs = o.atMs + o.horizonWeeks * WEEK;
  const uniform = (a: number, b: number) => a + rand() * (b - a);
  const minute = (t: number) => Math.floor(t / MIN) * MIN;
  /** Poisson-distributed count (Knuth; the means here are small). */
  const poisson = (mean: number) => {
    const limit = Math.exp(-mean);
    let k = 0;
    for (let p = rand(); p > limit; p *= rand()) k++;
    return k;
  };
  const series: Series[] = [];
  const alerts = new Map<string, Series & { samples: Array<[number, number]> }>();
  const fnReplacements: FutureEvent[] = [];
  const certificateRenewals: FutureEvent[] = [];
  const incidents: ForecastFleet['incidents'] = [];
  const pastIncidents: Record<string, number> = {};

  for (let i = 0; i < o.tills; i++) {
    let r = rand();
    let k = 0;
    while (k < REGIONS.length - 1 && r >= REGION_SHARE[k]!) r -= REGION_SHARE[k++]!;
    const region = REGIONS[k]!;
    const store = `s${String(Math.floor(i / 2) + 1).padStart(4, '0')}`;
    const till = `${store}-t${(i % 2) + 1}`;
    const model = MODELS[Math.floor(rand() * MODELS.length)]!;
    const place = { chain: 'c1', region, store, till };
    // The fleet grows: 6 % of the tills opened during the history; 2 % close during the horizon.
    const opened = rand() < 0.06 ? uniform(fromMs, o.atMs - DAY) : fromMs - DAY;
    const closes = rand() < 0.02 ? uniform(o.atMs, endMs) : Infinity;

    // The FN: 15-month drives, bought at any time, so expiries spread evenly over the next 15 months.
    const fnExpiry = o.atMs + uniform(-10 * DAY, 15 * MONTH);
    const fnDue = fnExpiry - MONTH;
    // Before it is due, the drive may fail (fiscal.fn_critical) and be replaced at once.
    const failRate = 0.008 * (o.rateChange['fiscal.fn_critical'] ?? 1);
    const failsAt = o.atMs + (-Math.log(1 - rand()) / failRate) * MONTH;
    if (failsAt < Math.min(fnDue, closes, endMs)) fnReplacements.push({ region, atMs: failsAt });
    else if (fnDue < closes) {
      // The field service books the visit within the 30 days before expiry, mostly in the first two weeks;
      // one already due at the cut-off is visited within a week.
      const visit =
        fnDue < o.atMs
          ? o.atMs + uniform(0, WEEK)
          : fnDue + Math.min(uniform(0, 14 * DAY), uniform(0, 25 * DAY));
      if (visit < closes) fnReplacements.push({ region, atMs: visit });
    }
    // The UTM's GOST certificate: yearly, renewed remotely within 10 days of the 30-day warning.
    const certExpiry = o.atMs + uniform(-5 * DAY, 365 * DAY);
    const certDue = certExpiry - MONTH;
    if (certDue < closes)
      certificateRenewals.push({ region, atMs: Math.max(o.atMs, certDue) + uniform(0, 10 * DAY) });

    // What Prometheus holds at the cut-off: the current expiry timestamps and the registrar model.
    const recent = (v: number): Array<[number, number]> => [
      [o.atMs - 2 * HOUR, v],
      [o.atMs - HOUR, v],
      [o.atMs, v],
    ];
    series.push(
      {
        name: 'till_fiscal_fn_expiry_timestamp_seconds',
        labels: { ...place, device: 'fiscal' },
        samples: recent(fnExpiry / 1000),
      },
      {
        name: 'till_utm_certificate_expiry_timestamp_seconds',
        labels: { ...place, device: 'utm', certificate: 'gost' },
        samples: recent(certExpiry / 1000),
      },
    );
    const info: Array<[number, number]> = [];
    for (let t = Math.ceil(Math.max(fromMs, opened) / (4 * HOUR)) * 4 * HOUR; t <= o.atMs; t += 4 * HOUR)
      info.push([t, 1]);
    series.push({ name: 'till_fiscal_info', labels: { ...place, device: 'fiscal', model }, samples: info });

    // Incidents: Poisson arrivals at the class rate before the cut-off, at the changed rate after.
    for (const c of RATES) {
      const before = c.rate(model);
      const after = before * (o.rateChange[c.incidentClass] ?? 1);
      const pastStart = Math.max(fromMs, opened);
      const past = poisson((before * (o.atMs - pastStart)) / MONTH);
      for (let n = 0; n < past; n++) {
        const start = minute(uniform(pastStart, o.atMs - HOUR));
        // A short firing: one to ten one-minute evaluations.
        const key = `${c.alertname}/${till}`;
        let s = alerts.get(key);
        if (!s)
          alerts.set(
            key,
            (s = {
              name: 'ALERTS',
              labels: {
                alertname: c.alertname,
                alertstate: 'firing',
                ...place,
                device: 'fiscal',
                incident_class: c.incidentClass,
                severity: 'critical',
              },
              samples: [],
            }),
          );
        const len = 1 + Math.floor(rand() * 10);
        for (let m = 0; m < len; m++) s.samples.push([start + m * MIN, 1]);
        pastIncidents[c.incidentClass] = (pastIncidents[c.incidentClass] ?? 0) + 1;
      }
      const future = poisson((after * (Math.min(endMs, closes) - o.atMs)) / MONTH);
      for (let n = 0; n < future; n++)
        incidents.push({
          region,
          incidentClass: c.incidentClass,
          atMs: uniform(o.atMs, Math.min(endMs, closes)),
        });
    }
  }
  for (const s of alerts.values()) {
    s.samples.sort((a, b) => a[0] - b[0]);
    // Two firings of the same minute are one sample.
    s.samples = s.samples.filter((x, j) => j === 0 || x[0] !== s.samples[j - 1]![0]);
    series.push(s);
  }
  return { series, fnReplacements, certificateRenewals, incidents, pastIncidents };
}
