// Честный знак local module (docs/protocols/marking.md): GET /api/v1/status with Basic auth.
import { DriverError } from '../errors.js';
import { basicAuth, httpJson, isObject } from '../http.js';

export const MARKING_STATUSES = [
  'ready',
  'initialization',
  'sync_error',
  'not_configured',
  'enisey_off-line',
  'unknown',
] as const;
export type MarkingStatusValue = (typeof MARKING_STATUSES)[number];

export interface MarkingOptions {
  url: string;
  username: string;
  password: string;
  timeoutMs: number;
}

export interface MarkingStatus {
  status: MarkingStatusValue;
  /** The status text as sent, for logs when it is not one we know. */
  rawStatus: string;
  version: string;
  /** Unix seconds. */
  lastSync?: number;
  requiresDownload?: boolean;
}

/** Parses the /api/v1/status body. Exported for tests. */
export function parseMarkingStatus(body: unknown): MarkingStatus {
  if (!isObject(body)) throw new DriverError('parse', '/api/v1/status is not a JSON object');
  const raw = typeof body.status === 'string' ? body.status : '';
  const known = (MARKING_STATUSES as readonly string[]).includes(raw.toLowerCase());
  const lastSyncMs = Number(body.lastSync);
  return {
    status: known ? (raw.toLowerCase() as MarkingStatusValue) : 'unknown',
    rawStatus: raw,
    version:
      typeof body.version === 'string' || typeof body.version === 'number' ? String(body.version) : 'unknown',
    // lastSync is Unix milliseconds; 0 or absent means never synchronised.
    lastSync: Number.isFinite(lastSyncMs) && lastSyncMs > 0 ? lastSyncMs / 1000 : undefined,
    requiresDownload: typeof body.requiresDownload === 'boolean' ? body.requiresDownload : undefined,
  };
}

export async function readMarking(opts: MarkingOptions, signal: AbortSignal): Promise<MarkingStatus> {
  const body = await httpJson(`${opts.url.replace(/\/+$/, '')}/api/v1/status`, {
    timeoutMs: opts.timeoutMs,
    signal,
    headers: { authorization: basicAuth(opts.username, opts.password) },
  });
  return parseMarkingStatus(body);
}
