import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { HttpError } from '../errors.js';
import type { AuthConfig } from './config.js';

/** Marks the request as a failed proof of identity, which the failure limiter counts. */
export const markAuthFailure = (res: { locals: Record<string, unknown> }) => {
  res.locals.authFailed = true;
};

/** The peer's address; the bridge does not trust X-Forwarded-For (app `trust proxy` is off). */
export function clientAddress(req: Request): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/**
 * Failed logins, unknown tokens and forged links per client address: after `limit` of them within
 * `window`, every request from that address is answered 429 with Retry-After until the window passes.
 * Counting only failures (express-rate-limit's skipSuccessfulRequests with our own notion of success)
 * leaves busy but honest clients alone.
 */
export function failureLimiter(
  cfg: AuthConfig['failures'],
  page: (retryAfter: string) => string,
): RequestHandler {
  return rateLimit({
    windowMs: cfg.window,
    limit: cfg.limit,
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => res.locals.authFailed !== true,
    keyGenerator: (req) => ipKeyGenerator(clientAddress(req)),
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (req, res, next) => {
      const after = String(res.getHeader('retry-after') ?? Math.ceil(cfg.window / 1000));
      if (req.path.startsWith('/ui') && req.accepts(['json', 'html']) === 'html') {
        res.status(429).type('html').send(page(after));
        return;
      }
      next(
        new HttpError('too_many_requests', `too many failed attempts from this address; retry in ${after} s`),
      );
    },
  });
}
