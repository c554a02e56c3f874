import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../config.js';
import { HttpError } from '../errors.js';

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Bearer token or Basic credentials from the Authorization header (scheme names are case-insensitive). */
export function credentials(req: Request): { bearer?: string; user?: string; pass?: string } {
  const h = req.get('authorization') ?? '';
  const m = /^(Bearer|Basic)\s+(.+)$/i.exec(h.trim());
  if (!m) return {};
  if (m[1]!.toLowerCase() === 'bearer') return { bearer: m[2]! };
  const dec = Buffer.from(m[2]!, 'base64').toString('utf8');
  const i = dec.indexOf(':');
  return i < 0 ? {} : { user: dec.slice(0, i), pass: dec.slice(i + 1) };
}

/** Alertmanager's credentials: the configured bearer token or Basic user and password. */
export function webhookAuth(config: Config) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const c = credentials(req);
    const w = config.webhook;
    const ok =
      (w.bearer_token && c.bearer !== undefined && safeEqual(c.bearer, w.bearer_token.reveal())) ||
      (w.basic_auth &&
        c.user !== undefined &&
        safeEqual(c.user, w.basic_auth.username) &&
        safeEqual(c.pass ?? '', w.basic_auth.password.reveal()));
    if (!ok)
      return next(
        new HttpError('unauthorized', c.bearer || c.user ? 'wrong credentials' : 'missing credentials'),
      );
    next();
  };
}

/**
 * An API token (Bearer, or the password of Basic auth for the pages) with the needed scope; the
 * token's name becomes the actor of what the request does.
 */
export function apiAuth(config: Config) {
  return (scope: 'read' | 'write', ui = false) =>
    (req: Request, res: Response, next: NextFunction) => {
      const c = credentials(req);
      const given = c.bearer ?? c.pass;
      const tok =
        given === undefined ? undefined : config.api.tokens.find((t) => safeEqual(t.token.reveal(), given));
      if (!tok) {
        if (ui) res.set('www-authenticate', 'Basic realm="tillwatch"');
        return next(
          new HttpError('unauthorized', given === undefined ? 'missing API token' : 'unknown API token'),
        );
      }
      if (scope === 'write' && tok.scope !== 'write')
        return next(new HttpError('forbidden', `token "${tok.name}" is read-only`));
      res.locals.actor = tok.name;
      next();
    };
}

export type ApiAuth = ReturnType<typeof apiAuth>;
