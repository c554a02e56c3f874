// The till action channel's two endpoints. Tills call out (they sit behind NAT); each request is
// signed with the till's own secret (sign.ts), fresh (timestamp within max_clock_skew) and used once
// (its nonce is stored; a replay is refused on every replica). Answers are signed for the request's
// nonce, so a till never acts on a forged or replayed answer. A till only ever sees and reports its own
// actions: another till's action id is a 404, as is one that does not exist.
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { Logger } from 'pino';
import { markAuthFailure } from '../auth/limit.js';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Metrics } from '../metrics.js';
import type { Remediation } from './service.js';
import {
  HEADER_NONCE,
  HEADER_SIGNATURE,
  HEADER_TILL,
  HEADER_TIMESTAMP,
  sameSignature,
  signRequest,
  signResponse,
} from './sign.js';

const resultBody = z.strictObject({
  result: z.enum(['succeeded', 'failed', 'refused', 'dry_run']),
  reason: z.string().max(2000).optional(),
  exit_code: z.number().int().nullable().optional(),
  output: z.string().max(65_536).optional(),
  duration_ms: z.number().nonnegative().optional(),
});

interface Authed {
  till: string;
  chain: string;
  secret: string;
  nonce: string;
  body: unknown;
}

export function tillActionRoutes(deps: {
  remediation: Remediation;
  db: Kysely<Database>;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
}): Router {
  const { remediation, metrics, logger, now } = deps;
  const r = express.Router();
  // The raw text is what the till signed; only these two routes read it.
  const text = express.text({ type: () => true, limit: '128kb' });

  const refuse = (res: Response, reason: string, status = 401, message = 'request refused') => {
    metrics.tillRequestsRejected.inc({ reason });
    if (status === 401) markAuthFailure(res);
    res
      .status(status)
      .json({ error: { code: status === 401 ? 'unauthorized' : 'invalid_request', message } });
  };

  /** Checks identity, signature, freshness and nonce; answers the refusal itself and returns undefined. */
  async function authenticate(req: Request, res: Response): Promise<Authed | undefined> {
    const till = req.get(HEADER_TILL) ?? '';
    const timestamp = req.get(HEADER_TIMESTAMP) ?? '';
    const nonce = req.get(HEADER_NONCE) ?? '';
    const signature = req.get(HEADER_SIGNATURE);
    const secret = remediation.secretOf(till);
    if (!secret) return void refuse(res, 'unknown_till');
    const body = typeof req.body === 'string' ? req.body : '';
    const expected = signRequest(secret, {
      method: req.method,
      path: req.originalUrl.split('?')[0]!,
      till,
      timestamp,
      nonce,
      body,
    });
    if (!sameSignature(signature, expected)) return void refuse(res, 'bad_signature');
    const ts = Number(timestamp);
    if (!/^\d{1,15}$/.test(timestamp) || Math.abs(now() - ts) > remediation.config!.max_clock_skew)
      return void refuse(res, 'stale', 401, 'request timestamp outside the allowed clock skew');
    if (!/^[0-9a-f]{32,64}$/.test(nonce)) return void refuse(res, 'bad_signature');
    const stored = await deps.db
      .insertInto('remediation_nonces')
      .values({ till, nonce, at: ts })
      .onConflict((oc) => oc.columns(['till', 'nonce']).doNothing())
      .executeTakeFirst();
    if (Number(stored.numInsertedOrUpdatedRows ?? 0) === 0)
      return void refuse(res, 'replayed', 401, 'request already seen (replay)');
    let parsed: unknown;
    try {
      parsed = body === '' ? {} : JSON.parse(body);
    } catch {
      return void refuse(res, 'invalid', 400, 'body is not JSON');
    }
    return { till, chain: till.split('/')[0]!, secret, nonce, body: parsed };
  }

  const answer = (res: Response, a: Authed, status: number, payload: unknown) => {
    const text = JSON.stringify(payload);
    res
      .status(status)
      .set(HEADER_SIGNATURE, signResponse(a.secret, a.nonce, text))
      .type('application/json')
      .send(text);
  };

  r.post('/till/v1/actions/poll', text, async (req, res, next) => {
    try {
      const a = await authenticate(req, res);
      if (!a) return;
      if (remediation.killedFor(a.chain)) return answer(res, a, 200, { killed: true, actions: [] });
      const rows = await remediation.take(a.till, a.chain);
      if (rows.length)
        logger.info({ till: a.till, actions: rows.map((x) => x.id) }, 'actions handed to till');
      answer(res, a, 200, {
        actions: rows.map((x) => ({
          id: x.id,
          action: x.action,
          choice: x.choice,
          expires_at: x.expires_at,
        })),
      });
    } catch (e) {
      next(e);
    }
  });

  r.post('/till/v1/actions/:id/result', text, async (req, res, next) => {
    try {
      const a = await authenticate(req, res);
      if (!a) return;
      const id = Number(req.params.id);
      const body = resultBody.safeParse(a.body);
      if (!Number.isSafeInteger(id) || id <= 0 || !body.success) {
        metrics.tillRequestsRejected.inc({ reason: 'invalid' });
        return answer(res, a, 400, {
          error: { code: 'invalid_request', message: body.success ? 'bad action id' : body.error.message },
        });
      }
      const row = await remediation.report(a.till, id, body.data);
      if (!row)
        return answer(res, a, 404, {
          error: { code: 'not_found', message: `no action ${id} awaits a result from this till` },
        });
      logger.info({ till: a.till, action: row.action, id, result: body.data.result }, 'action result');
      answer(res, a, 200, { ok: true });
    } catch (e) {
      next(e);
    }
  });
  return r;
}
