import type { NextFunction, Request, Response } from 'express';
import { safeEqual } from '../auth/equal.js';
import { clientAddress, markAuthFailure } from '../auth/limit.js';
import { can, type Directory, type Principal } from '../auth/principal.js';
import type { Role } from '../auth/config.js';
import type { Sessions } from '../auth/session.js';
import type { Config } from '../config.js';
import { HttpError } from '../errors.js';

export { safeEqual };

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
  return (req: Request, res: Response, next: NextFunction) => {
    const c = credentials(req);
    const w = config.webhook;
    const ok =
      (w.bearer_token && c.bearer !== undefined && safeEqual(c.bearer, w.bearer_token.reveal())) ||
      (w.basic_auth &&
        c.user !== undefined &&
        safeEqual(c.user, w.basic_auth.username) &&
        safeEqual(c.pass ?? '', w.basic_auth.password.reveal()));
    if (!ok) {
      if (c.bearer || c.user) markAuthFailure(res);
      return next(
        new HttpError('unauthorized', c.bearer || c.user ? 'wrong credentials' : 'missing credentials'),
      );
    }
    next();
  };
}

const principals = new WeakMap<Request, Principal>();

/** The person or service a request was authenticated as (set by the authenticate middlewares). */
export function principalOf(req: Request): Principal {
  const p = principals.get(req);
  if (!p) throw new Error('route reached without authentication');
  return p;
}

/** The session id the request's CSRF tokens are bound to, once authenticated on a page. */
export const principalSession = (req: Request): string | undefined => principals.get(req)?.session;

export interface AuthDeps {
  directory: Directory;
  /** Present when people log in or a proxy names them. */
  sessions: Sessions | undefined;
  proxy: Config['auth']['proxy'];
  now: () => number;
}

function fromToken(deps: AuthDeps, req: Request, res: Response): Principal | undefined | 'failed' {
  const c = credentials(req);
  const given = c.bearer ?? c.pass;
  if (given === undefined) return undefined;
  const p = deps.directory.byToken(given);
  if (p) return c.bearer === undefined ? { ...p, via: 'basic' } : p;
  markAuthFailure(res);
  return 'failed';
}

/** The user a trusted reverse proxy names; the header from anyone else is ignored. */
function fromProxy(deps: AuthDeps, req: Request): Principal | undefined | 'unknown' {
  const proxy = deps.proxy;
  if (!proxy) return undefined;
  const name = req.get(proxy.header)?.trim();
  if (!name) return undefined;
  const addr = clientAddress(req);
  if (!proxy.from.list.check(addr, addr.includes(':') ? 'ipv6' : 'ipv4')) return undefined;
  return deps.directory.byProxy(name) ?? 'unknown';
}

/** /api/v1: API tokens only (Bearer, or the password of Basic auth); never cookies, so no CSRF. */
export function authenticateApi(deps: AuthDeps) {
  return (req: Request, res: Response, next: NextFunction) => {
    const p = fromToken(deps, req, res);
    if (p === undefined) return next(new HttpError('unauthorized', 'missing API token'));
    if (p === 'failed') return next(new HttpError('unauthorized', 'unknown API token'));
    principals.set(req, p);
    next();
  };
}

export type PageAuth = 'ok' | 'login' | 'basic' | 'unknown-proxy-user';

/**
 * Pages: the trusted proxy's user, else the session cookie, else an API token as the Basic password
 * (how the pages opened before named users). Returns what to do when nobody is recognised.
 */
export function authenticatePage(deps: AuthDeps, req: Request, res: Response): PageAuth {
  const proxied = fromProxy(deps, req);
  if (proxied === 'unknown') return 'unknown-proxy-user';
  if (proxied) {
    principals.set(req, { ...proxied, session: `proxy:${proxied.name}` });
    return 'ok';
  }
  const s = deps.sessions?.read(req, deps.now(), (n) => deps.directory.passwordVersion(n));
  const u = s && deps.directory.user(s.name);
  if (s && u) {
    principals.set(req, { name: u.name, role: u.role, chains: u.chains, via: 'session', session: s.sid });
    return 'ok';
  }
  const t = fromToken(deps, req, res);
  if (t && t !== 'failed') {
    principals.set(req, { ...t, session: `basic:${t.name}` });
    return 'ok';
  }
  return deps.directory.hasLogins ? 'login' : 'basic';
}

/** 403 unless the authenticated principal has at least `role`. */
export function requireRole(role: Role) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const p = principalOf(req);
    if (!can(p, role))
      return next(new HttpError('forbidden', `${p.name} is a ${p.role}; this needs ${role} or above`));
    next();
  };
}
