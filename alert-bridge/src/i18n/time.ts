import type { Locale } from '../knowledge-base.js';

/**
 * Times shown to people: in the store's zone, with the zone named ("12:04 (Екатеринбург, UTC+5)").
 * The API keeps RFC 3339; this module is for pages, chat messages and e-mails.
 */

// Intl names a zone after its ICU "metazone", not the zone itself: Asia/Novosibirsk comes out as
// "Красноярск" and Asia/Barnaul as "Красноярск" too, which would send an engineer to the wrong city.
// Intl exposes no exemplar city, so the Russian zones' cities are listed here; other zones use the
// city part of the IANA id.
const RU_CITIES: Record<string, string> = {
  'Europe/Kaliningrad': 'Калининград',
  'Europe/Moscow': 'Москва',
  'Europe/Simferopol': 'Симферополь',
  'Europe/Kirov': 'Киров',
  'Europe/Volgograd': 'Волгоград',
  'Europe/Astrakhan': 'Астрахань',
  'Europe/Saratov': 'Саратов',
  'Europe/Ulyanovsk': 'Ульяновск',
  'Europe/Samara': 'Самара',
  'Asia/Yekaterinburg': 'Екатеринбург',
  'Asia/Omsk': 'Омск',
  'Asia/Novosibirsk': 'Новосибирск',
  'Asia/Barnaul': 'Барнаул',
  'Asia/Tomsk': 'Томск',
  'Asia/Novokuznetsk': 'Новокузнецк',
  'Asia/Krasnoyarsk': 'Красноярск',
  'Asia/Irkutsk': 'Иркутск',
  'Asia/Chita': 'Чита',
  'Asia/Yakutsk': 'Якутск',
  'Asia/Khandyga': 'Хандыга',
  'Asia/Vladivostok': 'Владивосток',
  'Asia/Ust-Nera': 'Усть-Нера',
  'Asia/Magadan': 'Магадан',
  'Asia/Sakhalin': 'Сахалин',
  'Asia/Srednekolymsk': 'Среднеколымск',
  'Asia/Kamchatka': 'Петропавловск-Камчатский',
  'Asia/Anadyr': 'Анадырь',
  UTC: 'UTC',
};

const cache = new Map<string, Intl.DateTimeFormat>();
function fmt(locale: Locale, zone: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${zone}|${JSON.stringify(opts)}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale === 'ru' ? 'ru-RU' : 'en-GB', { timeZone: zone, ...opts });
    cache.set(key, f);
  }
  return f;
}

const toDate = (at: string | number | Date) => (at instanceof Date ? at : new Date(at));

/** The zone's city in the locale: "Екатеринбург", "Yekaterinburg", "Buenos Aires". */
export function zoneCity(zone: string, locale: Locale): string {
  if (locale === 'ru' && RU_CITIES[zone]) return RU_CITIES[zone];
  if (zone === 'UTC' || zone === 'Etc/UTC') return 'UTC';
  return (zone.split('/').pop() ?? zone).replace(/_/g, ' ');
}

/** The zone's offset at that moment: "UTC+5", "UTC+5:30", "UTC". */
export function zoneOffset(at: string | number | Date, zone: string): string {
  const part = fmt('en', zone, { timeZoneName: 'shortOffset' })
    .formatToParts(toDate(at))
    .find((p) => p.type === 'timeZoneName');
  const off = (part?.value ?? 'GMT').replace(/^GMT/, 'UTC');
  return off === 'UTC+0' ? 'UTC' : off;
}

/** "Екатеринбург, UTC+5": the zone as a person reads it. */
export function zoneLabel(at: string | number | Date, zone: string, locale: Locale): string {
  const city = zoneCity(zone, locale);
  const off = zoneOffset(at, zone);
  return city === 'UTC' ? off : `${city}, ${off}`;
}

/** Calendar day in the zone, for "is it today there". */
function dayKey(at: Date, zone: string): string {
  return fmt('en', zone, { year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

export interface TimeOptions {
  /** When given, a time on the same local day is shown without its date. */
  now?: number;
  /** Leave the zone out (a caller that names it once, e.g. in a table heading). */
  bare?: boolean;
}

/**
 * "12:04 (Екатеринбург, UTC+5)" today, "3 мар., 12:04 (Екатеринбург, UTC+5)" another day,
 * "3 Mar 2025, 12:04 (…)" in another year. Minutes only: people do not act on seconds.
 */
export function formatTime(
  at: string | number | Date,
  zone: string,
  locale: Locale,
  opts: TimeOptions = {},
): string {
  const d = toDate(at);
  const time = fmt(locale, zone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
  let text = time;
  if (opts.now === undefined || dayKey(d, zone) !== dayKey(new Date(opts.now), zone)) {
    const sameYear =
      opts.now !== undefined &&
      fmt('en', zone, { year: 'numeric' }).format(d) ===
        fmt('en', zone, { year: 'numeric' }).format(new Date(opts.now));
    const date = fmt(locale, zone, {
      day: 'numeric',
      month: 'short',
      ...(sameYear ? {} : { year: 'numeric' }),
    }).format(d);
    text = `${date}, ${time}`;
  }
  return opts.bare ? text : `${text} (${zoneLabel(d, zone, locale)})`;
}
