import express, { type Router } from 'express';
import type { Logger } from 'pino';
import { safeEqual } from '../auth/equal.js';
import { markAuthFailure } from '../auth/limit.js';
import { isTransient } from '../db/errors.js';
import { HttpError } from '../errors.js';
import type { Secret } from '../secret.js';
import type { BotApi } from './api.js';
import { updateSchema, type Update } from './updates.js';

export const WEBHOOK_PATH = '/telegram/webhook';
const SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/**
 * POST /telegram/webhook: Telegram's updates for installations with a public URL. Only a request
 * carrying the secret given to setWebhook is read; anything else is 401 and counts as a failed proof of
 * identity. A press that is refused is still a handled update (200); a store that does not answer is a
 * 503, which Telegram retries.
 */
export function telegramWebhookRoutes(deps: {
  secret: Secret;
  handle(update: Update): Promise<void>;
}): Router {
  const r = express.Router();
  r.post(
    WEBHOOK_PATH,
    (req, res, next) => {
      if (!safeEqual(req.get(SECRET_HEADER) ?? '', deps.secret.reveal())) {
        markAuthFailure(res);
        throw new HttpError('unauthorized', `missing or wrong ${SECRET_HEADER}`);
      }
      next();
    },
    express.json({ limit: '1mb', type: () => true, strict: true }),
    async (req, res) => {
      const u = updateSchema.safeParse(req.body);
      if (!u.success) {
        const is = u.error.issues[0]!;
        throw new HttpError(
          'invalid_request',
          `not a Telegram update: ${is.path.join('.') || '(body)'}: ${is.message}`,
        );
      }
      try {
        await deps.handle(u.data);
      } catch (e) {
        if (isTransient(e)) throw new HttpError('storage_unavailable', 'storage does not answer');
        throw e;
      }
      res.json({ ok: true });
    },
  );
  return r;
}

/**
 * Tells Telegram where to post updates (setWebhook with the secret), again and again until it answers
 * yes: a bridge that starts while Telegram is out of reach must not stay deaf.
 */
export function webhookRegistration(opts: {
  api: BotApi;
  url: string;
  secret: Secret;
  logger: Logger;
  retryBaseMs: number;
  retryMaxMs: number;
}) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  const attempt = async (): Promise<void> => {
    try {
      await opts.api.call('setWebhook', {
        url: opts.url,
        secret_token: opts.secret.reveal(),
        allowed_updates: ['message', 'callback_query'],
      });
      opts.logger.info({ url: opts.url }, 'telegram: webhook set');
    } catch (e) {
      if (stopped) return;
      failures++;
      const wait = Math.min(opts.retryBaseMs * 2 ** (failures - 1), opts.retryMaxMs);
      opts.logger.warn({ err: (e as Error).message, retry_in_ms: wait }, 'telegram: setWebhook failed');
      timer = setTimeout(() => void attempt(), wait);
    }
  };
  let first: Promise<void> | undefined;
  return {
    start() {
      first = attempt();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await first;
    },
  };
}
