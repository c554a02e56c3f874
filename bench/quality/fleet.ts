// A synthetic fleet history with a known ground truth, for measuring how well the shipped rules predict.
// Each faulty till gets one fault; a precursor fault shows in the metrics days before it stops sales
// (FN expiry, OFD backlog, UTM certificate, disk filling, registrar clock drift), a fault without precursor
// (registrar suddenly down) does not. Healthy tills carry the noise that must not page anyone: short OFD
// backlogs, one-sample clock spikes, a disk that fills and is cleaned up every day.
import type { backtesting } from '@tillwatch/ops';
import { seededRandom, type Series } from '@tillwatch/testkit';

type Incident = backtesting.Incident;

export const PRECURSOR_CLASSES = [
  'fiscal.fn_expiry',
  'fiscal.ofd_backlog',
  'egais.certificate_expiry',
  'system.disk_full',
  'fiscal.clock_drift',
] as const;
export const SUDDEN_CLASSES = ['fiscal.registrar_down'] as const;

export interface FleetOptions {
  tills: number;
  /** History length; certificates warn 60 days ahead, so 62+ days lets every lead time be measured whole. */
  days: number;
  intervalMs: number;
  /** End of the history (ms); must be in the past for promtool. */
  endMs: number;
  seed?: number;
  /** Share of tills with a fault, spread evenly over the fault classes. */
  faultShare?: number;
}

export interface Fleet {
  fromMs: number;
  toMs: number;
  series: Series[];
  incidents: Incident[];
  tills: string[];
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MODELS = ['ШТРИХ-М-01Ф', 'АТОЛ 30Ф', 'АТОЛ 91Ф'];

export function generateFleet(o: FleetOptions): Fleet {
  const rand = seededRandom(o.seed ?? 42);
  const step = o.intervalMs;
  const toMs = Math.floor(o.endMs / step) * step;
  const fromMs = toMs - o.days * DAY;
  const times: number[] = [];
  for (let t = fromMs; t <= toMs; t += step) times.push(t);
  const between = (a: number, b: number) => Math.floor((a + rand() * (b - a)) / step) * step;
  const classes = [...PRECURSOR_CLASSES, ...SUDDEN_CLASSES];
  const faulty = Math.round(o.tills * (o.faultShare ?? 0.3));
  const series: Series[] = [];
  const incidents: Incident[] = [];
  const tills: string[] = [];

  for (let i = 0; i < o.tills; i++) {
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
    const fault = i < faulty ? classes[i % classes.length] : undefined;
    const inc = (incidentClass: string, criticalAt: number, end: number) =>
      incidents.push({
        id: `${till}/${incidentClass}`,
        till,
        store,
        incidentClass,
        start: criticalAt,
        criticalAt,
        end,
      });

    // FN: a healthy drive has 120..400 days left; a faulty one expires in the history and is replaced a day later.
    let fnExpiry = toMs + between(120 * DAY, 400 * DAY);
    let fnReplaced = Infinity;
    if (fault === 'fiscal.fn_expiry') {
      const e = between(fromMs + 32 * DAY, toMs - 2 * DAY);
      fnReplaced = e + DAY;
      inc(fault, e, fnReplaced);
      fnExpiry = e;
    }
    const fnNext = fnReplaced + 15 * 30 * DAY;
    series.push({
      name: 'till_fiscal_fn_expiry_timestamp_seconds',
      labels: { ...base, device: 'fiscal' },
      samples: times.map((t) => [t, (t < fnReplaced ? fnExpiry : fnNext) / 1000]),
    });

    // UTM certificate.
    let cert = toMs + between(90 * DAY, 300 * DAY);
    let certRenewed = Infinity;
    if (fault === 'egais.certificate_expiry') {
      cert = between(fromMs + 61 * DAY, toMs - 2 * DAY);
      certRenewed = cert + DAY;
      inc(fault, cert, certRenewed);
    }
    const certNext = certRenewed + 365 * DAY;
    series.push({
      name: 'till_utm_certificate_expiry_timestamp_seconds',
      labels: { ...base, device: 'utm', certificate: 'gost' },
      samples: times.map((t) => [t, (t < certRenewed ? cert : certNext) / 1000]),
    });

    // OFD: healthy tills have a one-to-three-hour backlog once a day; a stuck link keeps the oldest unsent
    // document for 30 days, when the FN blocks (critical), and is fixed a day later.
    const ofd: Array<[number, number]> = [];
    let stuck: [number, number] | undefined;
    if (fault === 'fiscal.ofd_backlog') {
      const s = between(fromMs + DAY, toMs - 32 * DAY);
      stuck = [s, s + 31 * DAY];
      inc(fault, s + 30 * DAY, s + 31 * DAY);
    }
    const dailyOffset = between(0, 20 * HOUR);
    // Noise that looks like a fault: 5 % of healthy tills lose the OFD link for 12..40 hours and recover.
    let outage: [number, number] | undefined;
    if (!fault && rand() < 0.05) {
      const s = between(fromMs + DAY, toMs - 3 * DAY);
      outage = [s, s + between(12 * HOUR, 40 * HOUR)];
    }
    for (const t of times) {
      if (stuck && t >= stuck[0] && t < stuck[1]) ofd.push([t, stuck[0] / 1000]);
      else if (outage && t >= outage[0] && t < outage[1]) ofd.push([t, outage[0] / 1000]);
      else {
        const dayStart = Math.floor((t - fromMs) / DAY) * DAY + fromMs + dailyOffset;
        if (t >= dayStart && t < dayStart + 2 * HOUR) ofd.push([t, dayStart / 1000]);
      }
    }
    series.push({
      name: 'till_fiscal_ofd_oldest_unsent_timestamp_seconds',
      labels: { ...base, device: 'fiscal' },
      samples: ofd,
    });

    // Disk: 20 GB; healthy tills use 30..60 % and grow 1 % a day, cleaned every night. A runaway log fills
    // the disk from 45 % free to 0 over two days (critical when full), cleaned two hours later.
    const size = 20e9;
    const free = 0.4 + rand() * 0.3;
    let fill: [number, number] | undefined;
    if (fault === 'system.disk_full') {
      const full = between(fromMs + 3 * DAY, toMs - DAY);
      fill = [full - 2 * DAY, full];
      inc(fault, full, full + 2 * HOUR);
    }
    // Noise: 5 % of healthy tills write a burst of 15 % of the disk over six hours, deleted at night.
    let burst: [number, number] | undefined;
    if (!fault && rand() < 0.05) {
      const s = between(fromMs + DAY, toMs - 2 * DAY);
      burst = [s, s + 6 * HOUR];
    }
    series.push({
      name: 'till_filesystem_size_bytes',
      labels: { ...base, mountpoint: '/' },
      samples: times.map((t) => [t, size]),
    });
    series.push({
      name: 'till_filesystem_avail_bytes',
      labels: { ...base, mountpoint: '/' },
      samples: times.map((t) => {
        if (fill && t >= fill[0] && t < fill[1] + 2 * HOUR) {
          const f = Math.max(0, 0.45 * (1 - (t - fill[0]) / (fill[1] - fill[0])));
          return [t, Math.round(size * f)];
        }
        const sinceMidnight = (t - fromMs) % DAY;
        const midnight = t - sinceMidnight;
        const burnt =
          burst && t >= burst[0] && t < Math.max(burst[1], midnight + DAY) && burst[0] >= midnight
            ? 0.15 * Math.min(1, (t - burst[0]) / (burst[1] - burst[0]))
            : 0;
        return [t, Math.round(size * (free - (0.01 * sinceMidnight) / DAY - burnt))];
      }),
    });

    // Registrar clock: a few seconds of jitter and, now and then, a one-sample spike of 90 s that `for`
    // must absorb; a failing clock battery drifts 3 s an hour until the FN rejects documents at 5 minutes.
    let drift: [number, number] | undefined;
    if (fault === 'fiscal.clock_drift') {
      const crit = between(fromMs + 8 * DAY, toMs - DAY);
      drift = [crit - 100 * HOUR, crit];
      inc(fault, crit, crit + HOUR);
    }
    series.push({
      name: 'till_fiscal_clock_offset_seconds',
      labels: { ...base, device: 'fiscal' },
      samples: times.map((t) => {
        if (drift && t >= drift[0] && t < drift[1] + HOUR)
          return [t, Math.min(300, ((t - drift[0]) / HOUR) * 3)];
        return [t, rand() < 0.002 ? 90 : Math.round((rand() - 0.5) * 6)];
      }),
    });

    // The registrar; the fault without a precursor drops it for three hours.
    let down: [number, number] | undefined;
    if (fault === 'fiscal.registrar_down') {
      const at = between(fromMs + DAY, toMs - DAY);
      down = [at, at + 3 * HOUR];
      inc(fault, at, at + 3 * HOUR);
    }
    series.push({
      name: 'till_device_up',
      labels: { ...base, device: 'fiscal', kind: 'fiscal' },
      samples: times.map((t) => [t, down && t >= down[0] && t < down[1] ? 0 : 1]),
    });
    series.push({
      name: 'till_fiscal_info',
      labels: {
        ...base,
        device: 'fiscal',
        driver: 'shtrih',
        model: MODELS[i % MODELS.length]!,
        serial: String(1000 + i),
        fn_serial: String(9000 + i),
        firmware: '1',
      },
      samples: times.map((t) => [t, 1]),
    });
  }
  return { fromMs, toMs, series, incidents, tills };
}
