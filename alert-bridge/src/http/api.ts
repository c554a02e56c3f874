import express, { type Request, type Router } from 'express';
import { z } from 'zod';
import type { Directory } from '../auth/principal.js';
import { HttpError } from '../errors.js';
import { ReportRequestError, type TicketService } from '../tickets/index.js';
import { visibleList, visibleTicket } from './access.js';
import { ACTION_NAMES, ACTIONS, type ActionName } from './actions.js';
import { authenticateApi, principalOf, requireRole, type AuthDeps } from './auth.js';
import { parseOr400 } from './validate.js';

const idParam = z.coerce.number().int().positive();
const listQuery = z.strictObject({
  status: z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(z.enum(['open', 'acknowledged', 'resolved', 'closed'])))
    .optional(),
  store: z.string().optional(),
  till: z.string().optional(),
  team: z.string().optional(),
  incident_class: z.string().optional(),
  chain: z.string().optional(),
  region: z.string().optional(),
  parent_id: z.coerce.number().int().positive().optional(),
  // Paging through history for analysts: tickets opened in [opened_after, opened_before), newest first,
  // the next page starting below the last id seen (`next_before_id`), stable while new tickets arrive.
  opened_after: z.iso.datetime({ offset: true }).optional(),
  opened_before: z.iso.datetime({ offset: true }).optional(),
  before_id: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

const reportQuery = z.strictObject({
  chain: z.string().min(1, 'is required'),
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected YYYY-MM such as 2026-11'),
});

export function ticketId(req: Request): number {
  const r = idParam.safeParse(req.params.id);
  if (!r.success) throw new HttpError('not_found', `ticket ${String(req.params.id)} does not exist`);
  return r.data;
}

/** Runs one action for the request's principal, once they are allowed to see the ticket. */
export async function act(
  tickets: TicketService,
  req: Request,
  name: ActionName,
  input: unknown,
): Promise<void> {
  const p = principalOf(req);
  const id = ticketId(req);
  await visibleTicket(tickets, p, id);
  const a = ACTIONS[name];
  // Each entry pairs its own schema with its own call; the union of the table loses that pairing.
  await (a.run as (t: TicketService, id: number, actor: string, b: unknown) => Promise<unknown>)(
    tickets,
    id,
    p.name,
    parseOr400(a.body as z.ZodType<unknown>, input),
  );
}

/**
 * /api/v1: the ticket list and detail for readers, the people's actions for operators, the user
 * list for admins. The caller is authenticated before its body is read.
 */
export function apiRoutes(deps: {
  tickets: TicketService;
  auth: AuthDeps;
  directory: Directory;
  changed(): void;
}): Router {
  const { tickets } = deps;
  const api = express.Router();
  api.use(authenticateApi(deps.auth));
  api.use(express.json({ limit: '100kb' }));
  api.get('/me', (req, res) => {
    const p = principalOf(req);
    res.json({ name: p.name, role: p.role, chains: p.chains });
  });
  api.get('/users', requireRole('admin'), (_req, res) => {
    res.json({
      users: deps.directory.list().map((u) => ({
        name: u.name,
        role: u.role,
        chains: u.chains,
        telegram_id: u.telegram_id ?? null,
        login: u.password_hash !== null,
      })),
    });
  });
  api.get('/tickets', async (req, res) => {
    const q = parseOr400(listQuery, req.query);
    const { opened_after, opened_before, ...rest } = q;
    const filter = {
      ...rest,
      ...(opened_after ? { opened_after: Date.parse(opened_after) } : {}),
      ...(opened_before ? { opened_before: Date.parse(opened_before) } : {}),
    };
    const page = await visibleList(tickets, principalOf(req), filter);
    const limit = q.limit ?? 100;
    res.json({
      tickets: page,
      // Present when the page is full: pass it as before_id for the next one.
      ...(page.length === limit ? { next_before_id: page[page.length - 1]!.id } : {}),
    });
  });
  api.get('/tickets/:id', async (req, res) => {
    res.json(await visibleTicket(tickets, principalOf(req), ticketId(req)));
  });
  // The monthly service report of one client; a chain-scoped caller gets only their own chains'.
  api.get('/reports/sla', async (req, res) => {
    const q = parseOr400(reportQuery, req.query);
    const p = principalOf(req);
    if (p.chains !== null && !p.chains.includes(q.chain))
      throw new HttpError('not_found', `no report for chain ${q.chain}`);
    try {
      res.json(await tickets.slaReport(q.chain, q.month));
    } catch (e) {
      if (e instanceof ReportRequestError) throw new HttpError('invalid_request', e.message);
      throw e;
    }
  });
  for (const name of ACTION_NAMES) {
    api.post(`/tickets/:id/${name}`, requireRole('operator'), async (req, res) => {
      await act(tickets, req, name, req.body ?? {});
      deps.changed();
      res.status(name === 'comments' ? 201 : 200).json(await tickets.get(ticketId(req)));
    });
  }
  return api;
}
