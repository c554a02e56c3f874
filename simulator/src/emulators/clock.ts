// The wall clock of an emulated device. Registrars and the UTM keep local time without a zone, so every
// emulator turns its Unix-seconds state into the device's calendar fields in one way, here.

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** The zone the fields are in, minutes east of UTC. */
  offsetMinutes: number;
}

/** Calendar fields of `seconds` in a zone `utcOffsetMinutes` east of UTC (undefined: the host's zone). */
export function wallClock(seconds: number, utcOffsetMinutes?: number): WallClock {
  const offsetMinutes = utcOffsetMinutes ?? -new Date(seconds * 1000).getTimezoneOffset();
  const shifted = new Date((seconds + offsetMinutes * 60) * 1000);
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    hour: shifted.getUTCHours(),
    minute: shifted.getUTCMinutes(),
    second: shifted.getUTCSeconds(),
    offsetMinutes,
  };
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:MM:SS`, the device's local time without a zone (UTM style). */
export function localDateTime(seconds: number, utcOffsetMinutes?: number): string {
  const c = wallClock(seconds, utcOffsetMinutes);
  return `${c.year}-${pad(c.month)}-${pad(c.day)} ${pad(c.hour)}:${pad(c.minute)}:${pad(c.second)}`;
}

/** ISO 8601 with the device's zone, as the ATOL web server prints it: `2026-11-25T12:01:30+03:00`. */
export function isoDateTime(seconds: number, utcOffsetMinutes?: number): string {
  const c = wallClock(seconds, utcOffsetMinutes);
  const off = Math.abs(c.offsetMinutes);
  const zone = `${c.offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(off / 60))}:${pad(off % 60)}`;
  return `${localDateTime(seconds, utcOffsetMinutes).replace(' ', 'T')}${zone}`;
}
