import express, { type Router } from 'express';
import { z } from 'zod';
import { listPage, ticketPage } from '../html.js';
import type { TicketService } from '../tickets/index.js';
import { ticketId } from './api.js';
import type { ApiAuth } from './auth.js';
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

/** Server-rendered pages: open tickets, the tickets about a place, one ticket. */
export function uiRoutes(deps: { tickets: TicketService; auth: ApiAuth }): Router {
  const { tickets, auth } = deps;
  const r = express.Router();
  r.get('/', (_req, res) => res.redirect('/ui'));
  r.get('/ui', auth('read', true), async (_req, res) => {
    res.type('html').send(listPage(await tickets.list({ status: ['open', 'acknowledged'], limit: 500 })));
  });
  // The wall's "Ticket" link names a place (and maybe the alert): it opens the one live ticket about
  // that place, or the list of them when there are several or none.
  r.get('/ui/tickets', auth('read', true), async (req, res) => {
    const q = parseOr400(placeQuery, req.query);
    const found = await tickets.forPlace(q);
    if (found.length === 1) return res.redirect(`/ui/tickets/${found[0]!.id}`);
    res.type('html').send(listPage(found, q));
  });
  r.get('/ui/tickets/:id', auth('read', true), async (req, res) => {
    res.type('html').send(ticketPage(await tickets.get(ticketId(req))));
  });
  return r;
}
