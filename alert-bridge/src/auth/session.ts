import { createHmac, randomBytes } from 'node:crypto';
import type { CookieOptions, Request, Response } from 'express';
import type { AuthConfig } from './config.js';

/**
 * Sessions live in a signed cookie (cookie-parser's HMAC signature), not in the database: every
 * replica behind a load balancer accepts it without a shared session store, and the cookie holds
 * only a name, a random session id, an expiry and a fingerprint of the password hash (so changing a
 * password ends old sessions). Logging out clears the cookie; a copied cookie stays valid until its
 * expiry (auth.session.ttl), which docs/security.md states.
 */
export interface SessionData {
  name: string;
  sid: string;
}

interface Payload {
  u: string;
  sid: string;
  exp: number;
  pv: string;
}

/** Separate keys for separate purposes, derived from the one configured secret. */
export function deriveKey(secret: string, purpose: 'session' | 'csrf'): string {
  return createHmac('sha256', secret).update(`tillwatch-bridge:${purpose}`).digest('base64url');
}

export interface Sessions {
  /** Secure cookies (https): the names take the __Host- prefix. */
  secure: boolean;
  cookieName: string;
  issue(res: Response, name: string, passwordVersion: string, now: number): SessionData;
  read(
    req: Request,
    now: number,
    passwordVersion: (name: string) => string | undefined,
  ): SessionData | undefined;
  clear(res: Response): void;
}

export function createSessions(cfg: AuthConfig['session'], secure: boolean): Sessions {
  const cookieName = secure ? '__Host-tw_session' : 'tw_session';
  const options = (maxAge?: number): CookieOptions => ({
    httpOnly: true,
    // Lax, not Strict: a link to a ticket from a chat or a mail client must open logged in; the
    // state-changing forms carry a CSRF token, which Lax does not replace.
    sameSite: 'lax',
    secure,
    path: '/',
    ...(maxAge !== undefined ? { maxAge } : {}),
  });
  return {
    secure,
    cookieName,
    issue(res, name, pv, now) {
      const sid = randomBytes(16).toString('base64url');
      const p: Payload = { u: name, sid, exp: now + cfg.ttl, pv };
      res.cookie(cookieName, Buffer.from(JSON.stringify(p)).toString('base64url'), {
        ...options(cfg.ttl),
        signed: true,
      });
      return { name, sid };
    },
    read(req, now, passwordVersion) {
      const raw = (req.signedCookies as Record<string, unknown> | undefined)?.[cookieName];
      if (typeof raw !== 'string') return undefined;
      let p: Partial<Payload>;
      try {
        p = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Payload>;
      } catch {
        return undefined;
      }
      if (typeof p.u !== 'string' || typeof p.sid !== 'string' || typeof p.exp !== 'number') return undefined;
      if (p.exp <= now || p.pv !== passwordVersion(p.u)) return undefined;
      return { name: p.u, sid: p.sid };
    },
    clear(res) {
      res.clearCookie(cookieName, options());
    },
  };
}
