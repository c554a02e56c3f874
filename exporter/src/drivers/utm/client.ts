// EGAIS UTM (docs/protocols/utm.md): /api/info/list for certificates and identity, and the home
// page for the oldest unsent receipt, since no JSON endpoint for that queue is confirmed.
import { DriverError } from '../errors.js';
import { httpJson, httpText, isObject, parseDateTime } from '../http.js';

export interface UtmOptions {
  url: string;
  timeoutMs: number;
  /** Zone of the UTM's date-times when they carry none; undefined = the host's zone. */
  utcOffsetMinutes?: number;
  /** Text on the home page meaning the unsent queue is empty. */
  noUnsentText: string;
  /**
   * Regular expression finding the oldest unsent receipt's date-time on the home page (first capture
   * group). Unconfirmed page wording: the default takes the first date-time after "неотправлен".
   */
  unsentPattern: string;
}

export const UTM_DEFAULTS = {
  noUnsentText: 'Отсутствуют неотправленные чеки',
  unsentPattern: 'неотправлен[\\s\\S]{0,300}?(\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}(?::\\d{2})?)',
};

export interface UtmStatus {
  version: string;
  fsrarId: string;
  rsaExpiry?: number;
  gostExpiry?: number;
  /** Unix seconds; undefined when the page says nothing is unsent. */
  oldestUnsent?: number;
  /** Problems with single fields; the UTM still counts as up. */
  warnings: string[];
}

function certExpiry(v: unknown, tz: number | undefined): number | undefined {
  if (!isObject(v)) return undefined;
  return parseDateTime(v.expireDate, tz);
}

/** Parses /api/info/list. Exported for tests. */
export function parseInfoList(body: unknown, tz?: number): Omit<UtmStatus, 'oldestUnsent' | 'warnings'> {
  if (!isObject(body)) throw new DriverError('parse', '/api/info/list is not a JSON object');
  const db = isObject(body.db) ? body.db : {};
  return {
    version: typeof body.version === 'string' ? body.version : 'unknown',
    fsrarId: db.ownerId !== undefined ? String(db.ownerId) : 'unknown',
    rsaExpiry: certExpiry(body.rsa, tz),
    gostExpiry: certExpiry(body.gost, tz),
  };
}

/** Finds the oldest unsent receipt on the home page: null = none, undefined = cannot tell. */
export function parseHomePage(
  html: string,
  opts: Pick<UtmOptions, 'noUnsentText' | 'unsentPattern' | 'utcOffsetMinutes'>,
): number | null | undefined {
  const text = html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ');
  if (text.toLowerCase().includes(opts.noUnsentText.toLowerCase())) return null;
  const m = new RegExp(opts.unsentPattern, 'iu').exec(text);
  if (!m?.[1]) return undefined;
  return parseDateTime(m[1], opts.utcOffsetMinutes);
}

export async function readUtm(opts: UtmOptions, signal: AbortSignal): Promise<UtmStatus> {
  const base = opts.url.replace(/\/+$/, '');
  const req = { timeoutMs: opts.timeoutMs, signal };
  const info = parseInfoList(await httpJson(`${base}/api/info/list`, req), opts.utcOffsetMinutes);
  const warnings: string[] = [];
  if (info.rsaExpiry === undefined) warnings.push('rsa.expireDate missing or invalid');
  if (info.gostExpiry === undefined) warnings.push('gost.expireDate missing or invalid');
  const { text } = await httpText(`${base}/`, req);
  const unsent = parseHomePage(text, opts);
  if (unsent === undefined) warnings.push('home page: no unsent-receipt information found');
  return { ...info, oldestUnsent: unsent ?? undefined, warnings };
}
