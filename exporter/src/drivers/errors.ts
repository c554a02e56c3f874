/**
 * Why an exchange with a device failed; the `reason` label of till_fiscal_errors_total
 * (docs/metrics.md, "Fiscal registrars").
 */
export type FailureReason =
  'timeout' | 'nak' | 'lrc' | 'framing' | 'device_error' | 'busy' | 'connection' | 'http' | 'parse';

export const FAILURE_REASONS: readonly FailureReason[] = [
  'timeout',
  'nak',
  'lrc',
  'framing',
  'device_error',
  'busy',
  'connection',
  'http',
  'parse',
];

export class DriverError extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    /** Device error code (Shtrih error byte, ATOL errorCode) when reason is device_error. */
    readonly code?: number,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

/** Maps a socket/HTTP/serial failure to a reason, so an unexpected error still gets counted. */
export function toDriverError(err: unknown, fallback: FailureReason = 'connection'): DriverError {
  if (err instanceof DriverError) return err;
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown };
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') {
    return new DriverError('timeout', e.message ?? 'aborted');
  }
  const cause = e?.cause as { code?: string; message?: string; name?: string } | undefined;
  const code = e?.code ?? cause?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') {
    return new DriverError('timeout', cause?.message ?? e?.message ?? String(code));
  }
  if (cause?.name === 'AbortError' || cause?.name === 'TimeoutError') {
    return new DriverError('timeout', cause.message ?? 'aborted');
  }
  const msg = [e?.message, cause?.message].filter(Boolean).join(': ') || String(err);
  return new DriverError(fallback, msg);
}
