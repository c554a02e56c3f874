import type { Request, RequestHandler, Response } from 'express';
import { doubleCsrf } from 'csrf-csrf';

/**
 * CSRF protection for the pages' forms with csrf-csrf (the signed double-submit cookie pattern):
 * each form carries a token that must equal the one in an HttpOnly, SameSite=Strict cookie, and both
 * are an HMAC bound to the session id. The synchronizer-token pattern (csrf-sync) would need the
 * sessions kept on the server; the bridge's sessions are a signed cookie so that replicas share
 * nothing, and the HMAC binding gives the same guarantee without server state.
 */
export interface Csrf {
  /** The token to put in this page's forms (sets or refreshes the cookie). */
  token(req: Request, res: Response): string;
  /** Refuses a state-changing request without a matching token (403, code EBADCSRFTOKEN). */
  protect: RequestHandler;
}

export function createCsrf(opts: {
  key: string;
  secure: boolean;
  /** The session the token is bound to ("anonymous" before login). */
  sessionOf: (req: Request) => string;
}): Csrf {
  const { generateCsrfToken, doubleCsrfProtection } = doubleCsrf({
    getSecret: () => opts.key,
    getSessionIdentifier: opts.sessionOf,
    cookieName: opts.secure ? '__Host-tw_csrf' : 'tw_csrf',
    cookieOptions: { sameSite: 'strict', secure: opts.secure, httpOnly: true, path: '/' },
    // Forms post urlencoded bodies; the field is the only place the token is taken from.
    getCsrfTokenFromRequest: (req) =>
      (req.body as Record<string, unknown> | undefined)?._csrf as string | undefined,
  });
  return { token: (req, res) => generateCsrfToken(req, res), protect: doubleCsrfProtection };
}

export const isCsrfError = (err: unknown): boolean =>
  (err as { code?: string } | null)?.code === 'EBADCSRFTOKEN';
