// Small HTTP helper shared by the ATOL, UTM and marking clients: one timeout per request on top of
// the poll's signal, and every failure turned into a DriverError with a reason.
import { DriverError, toDriverError } from './errors.js';

export interface HttpRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Largest reply read from a device. The biggest real one, the UTM's home page, is tens of kilobytes; a
 * device streaming an endless body would otherwise be buffered until the reply timeout, which on
 * loopback or a LAN is enough to push the exporter past its unit's MemoryMax.
 */
export const MAX_REPLY_BYTES = 2 * 1024 * 1024;

export async function httpText(url: string, req: HttpRequest): Promise<{ status: number; text: string }> {
  const { status, body } = await httpBytes(url, req);
  // As Response.text() decodes: UTF-8, a leading BOM dropped.
  return { status, text: new TextDecoder().decode(body) };
}

/** The reply body as bytes (IPP is binary); the same bounds and failure reasons as httpText. */
export async function httpBytes(url: string, req: HttpRequest): Promise<{ status: number; body: Buffer }> {
  const signals = [AbortSignal.timeout(req.timeoutMs)];
  if (req.signal) signals.push(req.signal);
  try {
    const res = await fetch(url, {
      method: req.method ?? 'GET',
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.any(signals),
      redirect: 'manual',
    });
    const body = await boundedBody(res, url);
    if (res.status < 200 || res.status >= 300) {
      throw new DriverError('http', `${req.method ?? 'GET'} ${url} answered HTTP ${res.status}`);
    }
    return { status: res.status, body };
  } catch (err) {
    throw toDriverError(err, 'connection');
  }
}

/** The body, refused (and the connection dropped) past MAX_REPLY_BYTES. */
async function boundedBody(res: Response, url: string): Promise<Buffer> {
  const tooLarge = () => new DriverError('parse', `${url}: reply larger than ${MAX_REPLY_BYTES} bytes`);
  if (Number(res.headers.get('content-length') ?? 0) > MAX_REPLY_BYTES) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    size += r.value.byteLength;
    if (size > MAX_REPLY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(r.value);
  }
  return Buffer.concat(chunks);
}

export async function httpJson(url: string, req: HttpRequest): Promise<unknown> {
  const { text } = await httpText(url, req);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new DriverError('parse', `${url}: malformed JSON (${(err as Error).message})`);
  }
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Date-time text to Unix seconds. ISO 8601 with or without zone, or `YYYY-MM-DD HH:MM:SS[.fff] [+HHMM]`.
 * Without a zone the time is taken in `utcOffsetMinutes` (undefined = the host's zone).
 */
export function parseDateTime(text: unknown, utcOffsetMinutes?: number): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m =
    /^\s*(\d{4})[-.](\d{2})[-.](\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$/.exec(
      text,
    );
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const zone = m[7];
  let ms: number;
  if (zone !== undefined) {
    const off =
      zone === 'Z'
        ? 0
        : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
    ms = Date.UTC(y, mo - 1, d, h, mi, s) - off * 60_000;
  } else if (utcOffsetMinutes !== undefined) {
    ms = Date.UTC(y, mo - 1, d, h, mi, s) - utcOffsetMinutes * 60_000;
  } else {
    ms = new Date(y, mo - 1, d, h, mi, s).getTime();
  }
  return Math.floor(ms / 1000);
}
