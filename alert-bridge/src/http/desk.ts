// The service desks' way back: POST /api/v1/desk/<name>/events, one change (acknowledge, comment, resolve)
// of a TillWatch ticket per request, signed with the desk's own secret (forwarding.targets[].inbound) as
// packages/config/src/action-signing.ts says under "Desk events". Trust: the signature proves the desk,
// the timestamp window bounds a replay, the event id makes a repeat within it change nothing (on every
// replica: the id is stored in the change's own transaction). A body that can never be accepted is a 4xx;
// only a storage fault the desk's retry can fix is a 5xx.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { HEADER_SIGNATURE, HEADER_TIMESTAMP, sameSignature, signDeskEvent } from '../actions/sign.js';
import { markAuthFailure } from '../auth/limit.js';
import type { Config, WebhookTarget } from '../config.js';
import { isTransient } from '../db/errors.js';
import type { ErrorCode } from '../errors.js';
import { ERROR_CODES } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { ConflictError, DESK_ACTIONS, NotFoundError, type TicketService } from '../tickets/index.js';

/** The largest event a desk may send: a comment of 10,000 characters with room to spare. */
export const DESK_MAX_BODY = 64 * 1024;

const eventBody = z
  .strictObject({
    // The desk's own id of this change: sending it again changes nothing.
    id: z.string().trim().min(1, 'is required').max(200),
    ticket: z.number().int().positive(),
    action: z.enum(DESK_ACTIONS),
    // A comment's text, or the note of an acknowledge or resolve.
    text: z.string().trim().min(1).max(10_000).optional(),
    // The person in the desk who did it (the desk is the actor; this is kept beside it).
    person: z.string().trim().min(1).max(200).optional(),
    force: z.boolean().optional(),
  })
  .refine((b) => b.action !== 'comment' || b.text !== undefined, {
    path: ['text'],
    message: 'is required for a comment',
  })
  .refine((b) => b.force === undefined || b.action === 'resolve', {
    path: ['force'],
    message: 'applies to resolve only',
  });

type Refusal = 'unknown_desk' | 'bad_signature' | 'stale' | 'invalid' | 'not_found' | 'conflict';

export function deskRoutes(deps: {
  config: Config;
  tickets: TicketService;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
  changed(): void;
}): Router {
  const { config, tickets, metrics, logger, now } = deps;
  const desks = new Map<string, WebhookTarget & { inbound: NonNullable<WebhookTarget['inbound']> }>();
  for (const t of config.forwarding.targets)
    if (t.type === 'webhook' && t.inbound) desks.set(t.name, { ...t, inbound: t.inbound });
  const r = express.Router();
  // The raw text is what the desk signed.
  const text = express.text({ type: () => true, limit: DESK_MAX_BODY });

  const send = (
    res: Response,
    status: number,
    code: ErrorCode | undefined,
    message: string,
    body?: object,
  ) =>
    code
      ? res.status(status).json({ error: { code, message } })
      : res.status(status).json(body ?? { status: message });

  r.post('/:desk/events', text, async (req: Request, res: Response) => {
    // Metrics name configured desks only: a name from the URL never becomes a label.
    const desk = desks.get(String(req.params.desk));
    const label = desk ? `webhook:${desk.name}` : 'unknown';
    const refuse = (reason: Refusal, code: ErrorCode, message: string) => {
      metrics.deskEvents.inc({ desk: label, result: reason });
      if (code === 'unauthorized') markAuthFailure(res);
      send(res, ERROR_CODES[code], code, message);
    };
    // One answer for an unknown desk and a wrong signature: the refusal does not tell which desks exist.
    if (!desk) return refuse('unknown_desk', 'unauthorized', 'bad signature');
    const timestamp = req.get(HEADER_TIMESTAMP) ?? '';
    const body = typeof req.body === 'string' ? req.body : '';
    const expected = signDeskEvent(desk.inbound.secret.reveal(), timestamp, body);
    if (!sameSignature(req.get(HEADER_SIGNATURE), expected))
      return refuse('bad_signature', 'unauthorized', 'bad signature');
    if (!/^\d{1,15}$/.test(timestamp) || Math.abs(now() - Number(timestamp)) > desk.inbound.max_skew)
      return refuse(
        'stale',
        'unauthorized',
        'timestamp outside the allowed clock skew (a replay, or a wrong clock)',
      );
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return refuse('invalid', 'invalid_json', 'body is not JSON');
    }
    const parsed = eventBody.safeParse(json);
    if (!parsed.success) {
      const is = parsed.error.issues[0]!;
      const msg = is.code === 'unrecognized_keys' ? `unknown field(s) ${is.keys.join(', ')}` : is.message;
      return refuse('invalid', 'invalid_request', `${is.path.join('.') || '(body)'}: ${msg}`);
    }
    const b = parsed.data;
    try {
      const out = await tickets.deskEvent({
        desk: desk.name,
        origin: label,
        id: b.id,
        ticket: b.ticket,
        action: b.action,
        text: b.text,
        person: b.person,
        force: b.force,
      });
      metrics.deskEvents.inc({ desk: label, result: out.status });
      if (out.status !== 'applied') return send(res, 200, undefined, out.status);
      deps.changed();
      logger.info({ desk: desk.name, event: b.id, ticket: b.ticket, action: b.action }, 'desk event applied');
      res.json({ status: 'applied', ticket: await tickets.get(b.ticket) });
    } catch (e) {
      if (e instanceof NotFoundError) return refuse('not_found', 'not_found', e.message);
      if (e instanceof ConflictError) return refuse('conflict', 'conflict', e.message);
      if (!isTransient(e)) throw e;
      logger.error({ err: e, desk: desk.name }, 'storing a desk event failed');
      send(res, 503, 'storage_unavailable', 'could not store the event; retry later');
    }
  });

  // The body parser's refusals (too large, a broken stream) are this route's 4xx, never the API's.
  r.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const type = (err as { type?: string } | null)?.type;
    const status = (err as { status?: unknown } | null)?.status;
    if (type === 'entity.too.large')
      return send(res, 413, 'payload_too_large', `body larger than ${DESK_MAX_BODY} bytes`);
    if (typeof status === 'number' && status >= 400 && status < 500)
      return send(res, 400, 'invalid_body', `unreadable body: ${(err as Error).message}`);
    next(err);
  });
  return r;
}
