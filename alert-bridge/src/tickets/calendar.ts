import { DateTime } from 'luxon';

/** Weekdays as the config names them, in ISO order (Monday = 1). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A service calendar: when SLA clocks run. `always` is 24/7. */
export type Calendar =
  | { kind: 'always' }
  | {
      kind: 'hours';
      /** IANA zone the hours are written in. */
      timezone: string;
      /** Working intervals per weekday as minutes from local midnight, [start, end); absent = closed. */
      hours: Partial<Record<Weekday, readonly (readonly [number, number])[]>>;
      /** Local dates (YYYY-MM-DD) with no working hours. */
      holidays: ReadonlySet<string>;
    };

export const ALWAYS: Calendar = { kind: 'always' };

// A calendar with at least one working interval a week finds one within 8 days plus its holidays; this
// bound only stops a calendar whose every working day is a holiday from looping for ever.
const MAX_DAYS = 3_700;

/** "09:00-18:00" → [540, 1080]; "24:00" is the end of the day. */
export function parseRange(s: string): [number, number] {
  const m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(s);
  if (!m) throw new Error(`"${s}" is not HH:MM-HH:MM`);
  const [a, b] = [Number(m[1]) * 60 + Number(m[2]), Number(m[3]) * 60 + Number(m[4])];
  if (Number(m[2]) > 59 || Number(m[4]) > 59 || a >= 24 * 60 || b > 24 * 60 || a >= b)
    throw new Error(`"${s}" is not a range within one day (start before end, 00:00 to 24:00)`);
  return [a, b];
}

/**
 * The moment `ms` of working time after `from` on the calendar (a deadline). Walks the calendar's local
 * days with luxon, which resolves wall-clock times in the zone (DST gaps and overlaps included), so an
 * interval is the real time between its local start and end on that date.
 */
export function addWorkingTime(cal: Calendar, from: number, ms: number): number {
  if (cal.kind === 'always') return from + ms;
  let left = ms;
  let day = DateTime.fromMillis(from, { zone: cal.timezone }).startOf('day');
  for (let i = 0; i < MAX_DAYS; i++, day = day.plus({ days: 1 }).startOf('day')) {
    const date = day.toISODate()!;
    if (cal.holidays.has(date)) continue;
    const wd = WEEKDAYS[day.weekday - 1]!;
    for (const [a, b] of cal.hours[wd] ?? []) {
      const start = Math.max(at(day, a), from);
      const end = at(day, b);
      if (end <= start) continue;
      if (end - start >= left) return start + left;
      left -= end - start;
    }
  }
  throw new Error('the calendar has no working time within ten years');
}

/** Working time on the calendar between two moments (how much of an SLA a span used). */
export function workingTimeBetween(cal: Calendar, from: number, to: number): number {
  if (to <= from) return 0;
  if (cal.kind === 'always') return to - from;
  let total = 0;
  let day = DateTime.fromMillis(from, { zone: cal.timezone }).startOf('day');
  while (day.toMillis() < to) {
    if (!cal.holidays.has(day.toISODate()!)) {
      for (const [a, b] of cal.hours[WEEKDAYS[day.weekday - 1]!] ?? []) {
        const s = Math.max(at(day, a), from);
        const e = Math.min(at(day, b), to);
        if (e > s) total += e - s;
      }
    }
    day = day.plus({ days: 1 }).startOf('day');
  }
  return total;
}

/** The instant of `minutes` after local midnight of `day` (24:00 is the next midnight). */
function at(day: DateTime, minutes: number): number {
  if (minutes === 24 * 60) return day.plus({ days: 1 }).startOf('day').toMillis();
  return day.set({ hour: Math.floor(minutes / 60), minute: minutes % 60 }).toMillis();
}
