import express, { type Request, type Router } from 'express';
import { z } from 'zod';
import { HttpError } from '../errors.js';
import type { TicketService } from '../tickets/index.js';
import type { ApiAuth } from './auth.js';
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
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
const noteBody = z.strictObject({ note: z.string().max(10_000).optional() }).default({});
const resolveBody = z
  .strictObject({ note: z.string().max(10_000).optional(), force: z.boolean().optional() })
  .default({});
const assignBody = z.strictObject({ assignee: z.string().min(1).max(200).nullable() });
const commentBody = z.strictObject({ text: z.string().min(1).max(10_000) });

export function ticketId(req: Request): number {
  const r = idParam.safeParse(req.params.id);
  if (!r.success) throw new HttpError('not_found', `ticket ${String(req.params.id)} does not exist`);
  return r.data;
}

/** /api/v1: the ticket list and detail for readers, and the people's actions for writers. */
export function apiRoutes(deps: { tickets: TicketService; auth: ApiAuth; changed(): void }): Router {
  const { tickets, auth } = deps;
  const api = express.Router();
  api.use(express.json({ limit: '100kb' }));
  api.get('/tickets', auth('read'), async (req, res) => {
    res.json({ tickets: await tickets.list(parseOr400(listQuery, req.query)) });
  });
  api.get('/tickets/:id', auth('read'), async (req, res) => {
    res.json(await tickets.get(ticketId(req)));
  });
  api.post('/tickets/:id/acknowledge', auth('write'), async (req, res) => {
    await tickets.acknowledge(
      ticketId(req),
      res.locals.actor as string,
      parseOr400(noteBody, req.body ?? {}).note,
    );
    deps.changed();
    res.json(await tickets.get(ticketId(req)));
  });
  api.post('/tickets/:id/resolve', auth('write'), async (req, res) => {
    await tickets.resolve(ticketId(req), res.locals.actor as string, parseOr400(resolveBody, req.body ?? {}));
    deps.changed();
    res.json(await tickets.get(ticketId(req)));
  });
  api.post('/tickets/:id/reopen', auth('write'), async (req, res) => {
    await tickets.reopen(
      ticketId(req),
      res.locals.actor as string,
      parseOr400(noteBody, req.body ?? {}).note,
    );
    deps.changed();
    res.json(await tickets.get(ticketId(req)));
  });
  api.post('/tickets/:id/assign', auth('write'), async (req, res) => {
    await tickets.assign(
      ticketId(req),
      res.locals.actor as string,
      parseOr400(assignBody, req.body ?? {}).assignee,
    );
    deps.changed();
    res.json(await tickets.get(ticketId(req)));
  });
  api.post('/tickets/:id/comments', auth('write'), async (req, res) => {
    await tickets.comment(
      ticketId(req),
      res.locals.actor as string,
      parseOr400(commentBody, req.body ?? {}).text,
    );
    deps.changed();
    res.status(201).json(await tickets.get(ticketId(req)));
  });
  return api;
}
