import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { isCsrfError, type Csrf } from '../auth/csrf.js';
import { markAuthFailure } from '../auth/limit.js';
import { LINK_PATH, type LinkSigner } from '../auth/links.js';
import { can, type Directory } from '../auth/principal.js';
import type { Sessions } from '../auth/session.js';
import { HttpError } from '../errors.js';
import type { Locale } from '../knowledge-base.js';
import { ConflictError, NotFoundError, type TicketService } from '../tickets/index.js';
import { messagePage, STYLE, STYLE_PATH, type PageContext } from '../ui/layout.js';
import { listPage } from '../ui/list-page.js';
import { loginPage, ticketPage, type TicketPageOptions } from '../ui/ticket-page.js';
import { uiText } from '../ui/text.js';
import { visibleForPlace, visibleList, visibleTicket } from './access.js';
import { ACTION_NAMES, type ActionName } from './actions.js';
import { act, ticketId } from './api.js';
import { authenticatePage, principalOf, type AuthDeps } from './auth.js';
import { parseOr400 } from './validate.js';

// Link templates fill unknown labels with "", which means "not given" here.
const given = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const placeQuery = z.strictObject({
  chain: given,
  region: given,
  store: given,
  till: given,
  device: given,
  alertname: given,
  incident_class: given,
});

/** Where to go after logging in: only a page of this site (no open redirect). */
const safeNext = (v: unknown): string =>
  typeof v === 'string' && /^\/ui(\/|\?|$)/.test(v) && !/[\\\s]|\/\//.test(v) ? v : '/ui';

export interface UiDeps {
  tickets: TicketService;
  auth: AuthDeps;
  directory: Directory;
  sessions: Sessions | undefined;
  csrf: Csrf;
  signer: LinkSigner | undefined;
  locale: Locale;
  now: () => number;
  changed(): void;
}

/** Form fields of each action, as the JSON body the API takes. */
function formInput(name: ActionName, f: Record<string, unknown>): Record<string, unknown> {
  const str = (k: string) => (typeof f[k] === 'string' && f[k] !== '' ? (f[k] as string) : undefined);
  switch (name) {
    case 'acknowledge':
    case 'reopen':
    case 'wait':
    case 'resume':
      return { note: str('note') };
    case 'resolve':
      return { note: str('note'), force: f.force === 'true' ? true : undefined };
    case 'assign':
      return { assignee: str('assignee') ?? null };
    case 'comments':
      return { text: str('text') ?? '' };
    case 'remote_action':
      return {
        action: str('action') ?? '',
        choice: str('choice'),
        confirm: f.confirm === 'true' ? true : undefined,
      };
  }
}

/**
 * Server-rendered pages: login, open tickets, the tickets about a place, one ticket with its actions
 * (forms with CSRF tokens, post-redirect-get), and the read-only page behind a signed link.
 */
export function uiRoutes(deps: UiDeps): Router {
  const { tickets, locale, now } = deps;
  const L = uiText(locale);
  const r = express.Router();
  const form = express.urlencoded({ extended: false, limit: '20kb', parameterLimit: 20 });

  const ctx = (req: Request, res: Response): PageContext & { locale: Locale; now: number } => ({
    L,
    user: principalOfOrUndefined(req),
    csrf: deps.csrf.token(req, res),
    locale,
    now: now(),
  });
  const principalOfOrUndefined = (req: Request) => {
    try {
      return principalOf(req);
    } catch {
      return undefined;
    }
  };
  const html = (res: Response, status: number, body: string) => res.status(status).type('html').send(body);

  // Pages hold people's tickets: never cached by a browser or a proxy.
  r.use('/ui', (_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  r.get(STYLE_PATH, (_req, res) => {
    res.set('cache-control', 'public, max-age=3600').type('css').send(STYLE);
  });
  r.get('/', (_req, res) => res.redirect('/ui'));

  r.get('/ui/login', (req, res) => {
    if (!deps.sessions) return res.redirect('/ui');
    html(res, 200, loginPage(ctx(req, res), safeNext(req.query.next), false));
  });
  r.post('/ui/login', form, deps.csrf.protect, async (req, res) => {
    if (!deps.sessions) throw new HttpError('not_found', 'logins are not configured');
    const f = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof f.username === 'string' ? f.username.trim() : '';
    const password = typeof f.password === 'string' ? f.password : '';
    const next = safeNext(f.next);
    const p = name && password ? await deps.directory.login(name, password) : undefined;
    if (!p) {
      markAuthFailure(res);
      return html(res, 401, loginPage(ctx(req, res), next, true, name));
    }
    deps.sessions.issue(res, p.name, deps.directory.passwordVersion(p.name)!, now());
    res.redirect(303, next);
  });

  // Everything below needs to know who is asking.
  const page = (req: Request, res: Response, next: NextFunction) => {
    const outcome = authenticatePage(deps.auth, req, res);
    if (outcome === 'ok') return next();
    if (outcome === 'login')
      return res.redirect(303, `/ui/login?next=${encodeURIComponent(req.originalUrl)}`);
    if (outcome === 'unknown-proxy-user')
      return html(res, 403, messagePage({ L }, L.errors.title, L.errors.proxyUser));
    // No logins configured: the pages open with an API token as the Basic password, as before.
    res.set('www-authenticate', 'Basic realm="tillwatch"');
    next(new HttpError('unauthorized', 'missing API token'));
  };

  r.post('/ui/logout', page, form, deps.csrf.protect, (_req, res) => {
    deps.sessions?.clear(res);
    res.redirect(303, '/ui/login');
  });

  r.get('/ui', page, async (req, res) => {
    const list = await visibleList(tickets, principalOf(req), {
      status: ['open', 'acknowledged'],
      limit: 500,
    });
    html(res, 200, listPage(ctx(req, res), list));
  });
  // The wall's "Ticket" link names a place (and maybe the alert): it opens the one live ticket about
  // that place, or the list of them when there are several or none.
  r.get('/ui/tickets', page, async (req, res) => {
    const q = parseOr400(placeQuery, req.query);
    const found = await visibleForPlace(tickets, principalOf(req), q);
    if (found.length === 1) return res.redirect(`/ui/tickets/${found[0]!.id}`);
    html(res, 200, listPage(ctx(req, res), found, q));
  });

  const showTicket = async (
    req: Request,
    res: Response,
    status: number,
    extra: Partial<TicketPageOptions> = {},
  ) => {
    const t = await visibleTicket(tickets, principalOf(req), ticketId(req));
    html(
      res,
      status,
      ticketPage(ctx(req, res), t, {
        locale,
        now: now(),
        assignees: deps.directory.assignees(),
        remoteActions: tickets.remediation.config !== undefined,
        ...extra,
      }),
    );
  };
  r.get('/ui/tickets/:id', page, (req, res) => showTicket(req, res, 200));

  r.post('/ui/tickets/:id/:action', page, form, deps.csrf.protect, async (req, res) => {
    const name = req.params.action as ActionName;
    if (!ACTION_NAMES.includes(name)) throw new HttpError('not_found', 'no such action');
    if (!can(principalOf(req), 'operator')) throw new HttpError('forbidden', L.errors.forbidden);
    const input = formInput(name, (req.body ?? {}) as Record<string, unknown>);
    try {
      await act(tickets, req, name, input);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      // Show the refusal on the ticket page; a resolve refused while alerts fire offers the forced one.
      const t = await tickets.get(ticketId(req));
      // A mass incident's alerts are its members'.
      const all = [...t.alerts, ...(t.members ?? []).flatMap((m) => m.alerts)];
      const firing = [...new Set(all.filter((a) => a.status === 'firing').map((a) => a.alertname))];
      const live = t.status === 'open' || t.status === 'acknowledged';
      const offerForce = name === 'resolve' && !input.force && firing.length > 0 && live;
      return showTicket(req, res, 409, {
        problem: {
          message: offerForce ? L.errors.firing(firing.join(', ')) : err.message,
          offerForce,
          ...(typeof input.note === 'string' ? { note: input.note } : {}),
        },
      });
    }
    deps.changed();
    res.redirect(303, `/ui/tickets/${ticketId(req)}`);
  });

  // A recipient's link: read-only, no login; a forged signature counts as a failed attempt.
  r.get(`${LINK_PATH}/:id`, async (req, res) => {
    if (!deps.signer) throw new HttpError('not_found', 'signed links are not configured');
    const id = ticketId(req);
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const verdict = deps.signer.check(id, str(req.query.exp), str(req.query.sig), now());
    if (verdict === 'forged') {
      markAuthFailure(res);
      return html(res, 403, messagePage({ L }, L.errors.title, L.errors.forged));
    }
    if (verdict === 'expired') {
      return html(
        res,
        410,
        messagePage(
          { L },
          L.errors.title,
          L.errors.expired,
          `<p><a href="/ui/tickets/${id}">${L.login}</a></p>`,
        ),
      );
    }
    const t = await tickets.get(id);
    html(res, 200, ticketPage({ L }, t, { locale, now: now(), linkUntil: Number(req.query.exp) * 1000 }));
  });

  // Errors on pages are pages: the JSON error middleware is for the API.
  r.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!req.path.startsWith('/ui') || res.headersSent) return next(err);
    const c: PageContext = { L, user: principalOfOrUndefined(req) };
    if (isCsrfError(err)) return html(res, 403, messagePage(c, L.errors.title, L.errors.csrf));
    if (err instanceof NotFoundError || (err instanceof HttpError && err.code === 'not_found'))
      return html(res, 404, messagePage(c, L.errors.title, L.errors.notFound));
    if (err instanceof HttpError && err.code === 'forbidden')
      return html(res, 403, messagePage(c, L.errors.title, L.errors.forbidden));
    if (err instanceof HttpError && err.code === 'invalid_request')
      return html(res, 400, messagePage(c, L.errors.invalid, err.message));
    next(err);
  });
  return r;
}
