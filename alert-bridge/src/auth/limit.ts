import type { Request, RequestHandler } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
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
 * rate-limiter-flexible lets us look before and count only after a request failed; a limiter that
 * counts every request while it is in flight (express-rate-limit's skipSuccessfulRequests) refused
 * honest bursts, such as Alertmanager's 40 concurrent notifications.
 */
export function failureLimiter(
  cfg: AuthConfig['failures'],
  page: (retryAfter: string) => string,
): RequestHandler {
  const failures = new RateLimiterMemory({ points: cfg.limit, duration: Math.ceil(cfg.window / 1000) });
  return (req, res, next) => {
    const key = clientAddress(req);
    failures.get(key).then(
      (seen) => {
        if (seen && seen.consumedPoints >= cfg.limit) {
          const after = String(Math.max(1, Math.ceil(seen.msBeforeNext / 1000)));
          res.set('retry-after', after);
          if (req.path.startsWith('/ui') && req.accepts(['json', 'html']) === 'html') {
            res.status(429).type('html').send(page(after));
            return;
          }
          return next(
            new HttpError(
              'too_many_requests',
              `too many failed attempts from this address; retry in ${after} s`,
            ),
          );
        }
        res.on('finish', () => {
          if (res.locals.authFailed === true) void failures.penalty(key, 1);
        });
        next();
      },
      (e: unknown) => next(e),
    );
  };
}
