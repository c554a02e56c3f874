// Store calendars: opening hours per weekday, 24-hour stores, holidays and one-off closures, in the store's
// own time zone. The schema pieces are used by inventory.ts; `storeCalendars` resolves what each store
// inherits from its region and chain, and `StoreOpenRenderer` turns the calendars into the
// `tillwatch_store_open` exposition the calendar component serves (docs/metrics.md).
import { z } from 'zod';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const HHMM = '(?:[01]\\d|2[0-3]):[0-5]\\d';
const RANGE_RE = new RegExp(`^(${HHMM})-(${HHMM}|24:00)$`);
const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** One open interval of a day in minutes from local midnight; `end` past 1440 runs into the next day. */
export interface OpenRange {
  start: number;
  end: number;
}

/**
 * A day's hours: `"08:00-22:00"`, several ranges `"09:00-13:00, 14:00-20:00"`, a range past midnight
 * `"20:00-02:00"` (open until 02:00 of the next day), `"24h"` or `"closed"`.
 */
const dayHours = z
  .string({ error: 'expected hours such as "08:00-22:00", "24h" or "closed"' })
  .transform((s, ctx) => {
    const text = s.trim();
    if (text === 'closed') return [] as OpenRange[];
    if (text === '24h') return [{ start: 0, end: 1440 }];
    const ranges: OpenRange[] = [];
    for (const part of text.split(',')) {
      const m = RANGE_RE.exec(part.trim());
      if (!m) {
        ctx.addIssue({
          code: 'custom',
          message: `expected hours such as "08:00-22:00", "20:00-02:00", "24h" or "closed", got "${part.trim()}"`,
        });
        return z.NEVER;
      }
      const start = minutesOf(m[1]!);
      let end = m[2] === '24:00' ? 1440 : minutesOf(m[2]!);
      if (end === start) {
        ctx.addIssue({
          code: 'custom',
          message: `"${part.trim()}": opening and closing times are the same (use "24h")`,
        });
        return z.NEVER;
      }
      if (end < start) end += 1440;
      ranges.push({ start, end });
    }
    ranges.sort((a, b) => a.start - b.start);
    for (let i = 1; i < ranges.length; i++)
      if (ranges[i]!.start < ranges[i - 1]!.end) {
        ctx.addIssue({ code: 'custom', message: `ranges overlap in "${text}"` });
        return z.NEVER;
      }
    return ranges;
  });

/** Hours per weekday: `"24h"` for every day, or a map of `default` and `mon`..`sun`. */
// "24h" is rewritten to `{ default: "24h" }` first rather than offered as a union branch, so a mistake
// inside the map is reported at its own key (zod reports a failed union as a whole).
export const hoursSchema = z.preprocess(
  (v) => (v === '24h' ? { default: '24h' } : v),
  z
    .strictObject(
      {
        default: dayHours.optional(),
        ...Object.fromEntries(WEEKDAYS.map((d) => [d, dayHours.optional()])),
      } as Record<'default' | Weekday, z.ZodOptional<typeof dayHours>>,
      { error: 'expected "24h" or a map of default, mon, tue, wed, thu, fri, sat, sun' },
    )
    .transform((m, ctx) => {
      const days = WEEKDAYS.map((d) => m[d] ?? m.default);
      const missing = WEEKDAYS.filter((_, i) => days[i] === undefined);
      if (missing.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `no hours for ${missing.join(', ')}: give them or a default (use "closed" for a day off)`,
        });
        return z.NEVER;
      }
      return { days: days as OpenRange[][] };
    }),
);
export type Hours = z.output<typeof hoursSchema>;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const validDate = (s: string): boolean => {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
};
/** A local calendar date, `2027-01-01`: the store is closed the whole day. */
export const holidaysSchema = z.array(
  z.string({ error: 'expected a date such as "2027-01-01"' }).refine(validDate, {
    error: 'expected a date such as "2027-01-01"',
  }),
  { error: 'expected a list of dates' },
);

const LOCAL_DT_RE = /^(\d{4}-\d{2}-\d{2})[T ]((?:[01]\d|2[0-3]):[0-5]\d)$/;
const localDateTime = z
  .string({ error: 'expected a local date and time such as "2026-12-31 18:00"' })
  .transform((s, ctx) => {
    const m = LOCAL_DT_RE.exec(s.trim());
    if (!m || !validDate(m[1]!)) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a local date and time such as "2026-12-31 18:00", got "${s}"`,
      });
      return z.NEVER;
    }
    return `${m[1]} ${m[2]}`;
  });
/** A one-off closure in the store's local time, `from` inclusive, `to` exclusive (stocktaking, repairs). */
export const closuresSchema = z.array(
  z
    .strictObject(
      { from: localDateTime, to: localDateTime, reason: z.string().optional() },
      { error: 'expected a map with from and to' },
    )
    .refine((c) => c.from < c.to, { error: 'to must be later than from' }),
  { error: 'expected a list of closures' },
);

/** What a store's calendar is made of once region and chain defaults are applied. */
export interface StoreCalendar {
  timezone: string;
  hours: Hours;
  /** Sorted, unique. */
  holidays: string[];
  closures: { from: string; to: string }[];
}

interface Level {
  timezone?: string | undefined;
  hours?: Hours | undefined;
  holidays?: string[] | undefined;
  closures?: { from: string; to: string }[] | undefined;
}

/**
 * The calendar a store lives by: its own hours, else its region's, else its chain's; holidays and closures
 * of all three levels together. `null` when no level gives hours (the store has no calendar: it is watched
 * around the clock, as before calendars existed), or when no level gives a time zone (validation reports it).
 */
export function resolveCalendar(chain: Level, region: Level, store: Level): StoreCalendar | null {
  const hours = store.hours ?? region.hours ?? chain.hours;
  const timezone = store.timezone ?? region.timezone ?? chain.timezone;
  if (hours === undefined || timezone === undefined) return null;
  const holidays = [
    ...new Set([...(chain.holidays ?? []), ...(region.holidays ?? []), ...(store.holidays ?? [])]),
  ].sort();
  const closures = [...(chain.closures ?? []), ...(region.closures ?? []), ...(store.closures ?? [])];
  return { timezone, hours, holidays, closures };
}

/** Local wall-clock time of one zone at one instant. */
export interface LocalTime {
  /** `YYYY-MM-DD` */
  date: string;
  /** The previous day's date. */
  yesterday: string;
  /** 0 = Monday. */
  weekday: number;
  /** Minutes since local midnight. */
  minute: number;
  /** `YYYY-MM-DD HH:MM`, comparable with closure bounds. */
  stamp: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAY_INDEX: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/** The wall clock of `timezone` at `now` (Intl's tz database, the one Node ships: no hand-written offsets). */
export function localTime(timezone: string, now: Date): LocalTime {
  let f = formatters.get(timezone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    });
    formatters.set(timezone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(now)) p[part.type] = part.value;
  const date = `${p.year}-${p.month}-${p.day}`;
  const y = new Date(Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day) - 1));
  const minute = Number(p.hour) * 60 + Number(p.minute);
  return {
    date,
    yesterday: y.toISOString().slice(0, 10),
    weekday: WEEKDAY_INDEX[p.weekday!]!,
    minute,
    stamp: `${date} ${p.hour}:${p.minute}`,
  };
}

/** Whether a store with this calendar is open at the local time `t` of its zone. */
export function isOpenAt(cal: StoreCalendar, t: LocalTime): boolean {
  for (const c of cal.closures) if (c.from <= t.stamp && t.stamp < c.to) return false;
  // A holiday closes its whole local date, a night shift running into it included.
  if (cal.holidays.length > 0 && cal.holidays.includes(t.date)) return false;
  const days = cal.hours.days;
  for (const r of days[t.weekday]!) if (r.start <= t.minute && t.minute < r.end) return true;
  // Yesterday's ranges that run past midnight (unless yesterday was a holiday: the store never opened).
  if (!cal.holidays.includes(t.yesterday))
    for (const r of days[(t.weekday + 6) % 7]!) if (r.end > 1440 && t.minute < r.end - 1440) return true;
  return false;
}

/** A store with a calendar and where it is. */
export interface CalendarStore {
  chain: string;
  region: string;
  store: string;
  calendar: StoreCalendar;
}

const escapeLabel = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/**
 * The `tillwatch_store_open` exposition for a fleet, rendered at most once per wall-clock minute (hours
 * have minute resolution, so nothing changes within one). Hand-written text rather than a client library's
 * registry: at 20,000 stores a registry would rebuild 20,000 label sets per scrape, while this computes one
 * local time per zone per minute and keeps the text.
 */
export class StoreOpenRenderer {
  private cachedMinute = Number.NaN;
  private cachedText = '';
  private readonly lines: { prefix: string; calendar: StoreCalendar }[];

  constructor(stores: Iterable<CalendarStore>) {
    this.lines = [...stores].map((s) => ({
      prefix: `tillwatch_store_open{chain="${escapeLabel(s.chain)}",region="${escapeLabel(s.region)}",store="${escapeLabel(s.store)}"} `,
      calendar: s.calendar,
    }));
  }

  get stores(): number {
    return this.lines.length;
  }

  render(now: Date): string {
    const minute = Math.floor(now.getTime() / 60_000);
    if (minute === this.cachedMinute) return this.cachedText;
    const zones = new Map<string, LocalTime>();
    const out: string[] = [
      '# HELP tillwatch_store_open 1 while the store is open by its calendar in the inventory, 0 while it is closed.',
      '# TYPE tillwatch_store_open gauge',
    ];
    for (const { prefix, calendar } of this.lines) {
      let t = zones.get(calendar.timezone);
      if (t === undefined) zones.set(calendar.timezone, (t = localTime(calendar.timezone, now)));
      out.push(prefix + (isOpenAt(calendar, t) ? '1' : '0'));
    }
    out.push(
      '# HELP tillwatch_store_calendar_stores Stores with a calendar in the inventory the calendar component serves.',
      '# TYPE tillwatch_store_calendar_stores gauge',
      `tillwatch_store_calendar_stores ${this.lines.length}`,
      '',
    );
    this.cachedMinute = minute;
    this.cachedText = out.join('\n');
    return this.cachedText;
  }
}
