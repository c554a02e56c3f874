import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { HttpError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { ConflictError, NotFoundError } from '../tickets/index.js';

function isClientError(err: unknown): boolean {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' && s >= 400 && s < 500;
}

/** The one error middleware: every failure leaves as {error:{code,message}} with a stable code. */
export function errorHandler(config: Config, metrics: Metrics, logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let e: HttpError;
    const type = (err as { type?: string } | null)?.type;
    if (err instanceof HttpError) e = err;
    else if (err instanceof NotFoundError) e = new HttpError('not_found', err.message);
    else if (err instanceof ConflictError) e = new HttpError('conflict', err.message);
    else if (type === 'entity.too.large')
      e = new HttpError('payload_too_large', `body larger than ${config.webhook.max_body}`);
    else if (type === 'entity.parse.failed')
      e = new HttpError('invalid_json', `malformed JSON: ${(err as Error).message}`);
    else if (type === 'encoding.unsupported' || type === 'charset.unsupported')
      e = new HttpError('unsupported_media_type', (err as Error).message);
    else if (isClientError(err))
      // Any other refusal of the body parser (a corrupt gzip stream, a body cut short): the same
      // bytes will fail the same way, so a 4xx, never a 500 that Alertmanager retries.
      e = new HttpError('invalid_body', `unreadable body: ${(err as Error).message}`);
    else {
      logger.error({ err }, 'unhandled error');
      e = new HttpError('internal', 'internal error');
    }
    if (req.path === '/webhook/alertmanager') metrics.webhookRejected.inc({ reason: e.code });
    if (res.headersSent) return;
    res.status(e.status).json({ error: { code: e.code, message: e.message } });
  };
}
