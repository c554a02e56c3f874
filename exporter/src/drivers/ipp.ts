// Printers through CUPS or the printer's own IPP server (RFC 8011): two read-only operations, so the
// monitor never holds the printer's port the POS program prints through. IPP is binary over HTTP POST;
// ipp-encoder does the encoding, this file only builds the two requests and reads the answers.
import { createRequire } from 'node:module';
import { DriverError } from './errors.js';
import { httpBytes } from './http.js';

// ipp-encoder is CommonJS and ships no types: what this file uses of it, typed here.
interface IppAttribute {
  tag: number;
  name: string;
  value: unknown;
}
interface IppGroup {
  tag: number;
  attributes: IppAttribute[];
}
interface IppMessage {
  version?: { major: number; minor: number };
  operationId?: number;
  requestId: number;
  groups: IppGroup[];
}
interface IppEncoder {
  CONSTANTS: Record<string, number>;
  request: { encode(msg: IppMessage): Buffer };
  response: { decode(buf: Buffer): IppMessage };
}
const ipp = createRequire(import.meta.url)('ipp-encoder') as IppEncoder;

const C = ipp.CONSTANTS;
const tag = (name: string): number => C[name] as number;

/** printer-state (RFC 8011 section 5.4.11). */
export const PRINTER_STATES = { 3: 'idle', 4: 'processing', 5: 'stopped' } as const;

export interface PrinterStatus {
  /** 3 idle, 4 processing, 5 stopped. */
  state: number;
  /** printer-state-reasons without "none" and without the -error/-warning/-report suffix. */
  reasons: string[];
  queuedJobs: number;
  /** Seconds the oldest not-completed job has waited; 0 with an empty queue. */
  oldestJobAgeSeconds: number;
}

export interface IppOptions {
  /** ipp://host:port/printers/name (or http://...); ipp:// is HTTP on port 631 by default. */
  uri: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The HTTP URL an ipp:// URI is posted to (RFC 8010 section 4: ipp is HTTP, default port 631). */
export function httpUrl(uri: string): string {
  const u = new URL(uri);
  if (u.protocol === 'ipp:' || u.protocol === 'ipps:') {
    const scheme = u.protocol === 'ipps:' ? 'https:' : 'http:';
    return `${scheme}//${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:${u.port || '631'}${u.pathname}${u.search}`;
  }
  return uri;
}

let requestId = 0;

function operationGroup(uri: string, extra: IppGroup['attributes']): IppGroup {
  return {
    tag: tag('OPERATION_ATTRIBUTES_TAG'),
    attributes: [
      { tag: tag('CHARSET'), name: 'attributes-charset', value: ['utf-8'] },
      { tag: tag('NATURAL_LANG'), name: 'attributes-natural-language', value: ['en'] },
      { tag: tag('URI'), name: 'printer-uri', value: [uri] },
      ...extra,
    ],
  };
}

async function call(o: IppOptions, operationId: number, extra: IppGroup['attributes']): Promise<IppGroup[]> {
  requestId = (requestId % 0x7fffffff) + 1;
  const body = ipp.request.encode({
    version: { major: 1, minor: 1 },
    operationId,
    requestId,
    groups: [operationGroup(o.uri, extra)],
  });
  const res = await httpBytes(httpUrl(o.uri), {
    method: 'POST',
    headers: { 'content-type': 'application/ipp' },
    body,
    timeoutMs: o.timeoutMs,
    signal: o.signal,
  });
  let decoded: ReturnType<typeof ipp.response.decode>;
  try {
    decoded = ipp.response.decode(res.body);
  } catch (err) {
    throw new DriverError('parse', `${o.uri}: not an IPP answer (${(err as Error).message})`);
  }
  // ipp-encoder keeps the status code under a misspelt internal name; the header is 2 bytes in.
  const status = res.body.length >= 4 ? res.body.readUInt16BE(2) : 0xffff;
  if (status >= 0x0100) {
    throw new DriverError(
      'device_error',
      `${o.uri}: IPP status 0x${status.toString(16).padStart(4, '0')}`,
      status,
    );
  }
  return decoded.groups;
}

function values(groups: IppGroup[], groupTag: number, name: string): unknown[] {
  return groups
    .filter((g) => g.tag === groupTag)
    .flatMap((g) => g.attributes.filter((a) => a.name === name).flatMap((a) => a.value as unknown[]));
}

/** Get-Printer-Attributes and Get-Jobs (not-completed) for one printer. */
export async function readPrinter(o: IppOptions): Promise<PrinterStatus> {
  const keyword = (name: string) => ({ tag: tag('KEYWORD'), name: 'requested-attributes', value: [name] });
  const printer = await call(o, tag('GET_PRINTER_ATTRIBUTES'), [
    {
      ...keyword('printer-state'),
      value: ['printer-state', 'printer-state-reasons', 'queued-job-count', 'printer-up-time'],
    },
  ]);
  const P = tag('PRINTER_ATTRIBUTES_TAG');
  const state = Number(values(printer, P, 'printer-state')[0]);
  if (!(state in PRINTER_STATES)) throw new DriverError('parse', `${o.uri}: no printer-state in the answer`);
  const reasons = [
    ...new Set(
      values(printer, P, 'printer-state-reasons')
        .map((r) => String(r).replace(/-(error|warning|report)$/, ''))
        .filter((r) => r !== 'none' && /^[a-z0-9-]+$/.test(r)),
    ),
  ].sort();
  const upTime = Number(values(printer, P, 'printer-up-time')[0]);
  const jobs = await call(o, tag('GET_JOBS'), [
    { tag: tag('KEYWORD'), name: 'which-jobs', value: ['not-completed'] },
    { ...keyword('job-id'), value: ['job-id', 'time-at-creation'] },
  ]);
  const created = values(jobs, tag('JOB_ATTRIBUTES_TAG'), 'time-at-creation')
    .map(Number)
    .filter(Number.isFinite);
  const queued = Number(values(printer, P, 'queued-job-count')[0]);
  // time-at-creation is in the printer's up-time clock (RFC 8011 section 5.3.14.1), so the age is the
  // difference of two readings of that one clock, whatever the printer's wall time says.
  const oldest =
    created.length > 0 && Number.isFinite(upTime) ? Math.max(0, upTime - Math.min(...created)) : 0;
  return {
    state,
    reasons,
    queuedJobs: Number.isFinite(queued) ? queued : created.length,
    oldestJobAgeSeconds: oldest,
  };
}
