import type { Router } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from '../db/connect.js';
import type { Sender } from '../delivery/sender.js';
import type { Metrics } from '../metrics.js';
import type { TicketLink } from '../notify/render.js';
import type { TicketService } from '../tickets/index.js';
import { telegramSender } from '../notify/telegram.js';
import { botApi } from './api.js';
import { callbackSigner } from './callback.js';
import { TelegramMessages } from './messages.js';
import { telegramMetrics } from './metrics.js';
import { Poller } from './poller.js';
import { UpdateHandler } from './updates.js';
import { telegramWebhookRoutes, webhookRegistration, WEBHOOK_PATH } from './webhook.js';

// A reply to a message older than this is no longer a comment; presses on it still work (the
// callback data names the ticket).
const MESSAGE_MEMORY_MS = 30 * 86_400_000;
// Telegram redelivers an update within hours at most; a week covers any webhook retry or poll restart.
const HANDLED_MEMORY_MS = 7 * 86_400_000;
const HOUSEKEEPING_MS = 3_600_000;

export interface TelegramDeps {
  config: Config;
  store: Store;
  tickets: TicketService;
  metrics: Metrics;
  logger: Logger;
  ticketLink?: TicketLink | undefined;
  /** Wakes the outbox after a press or a reply changed a ticket. */
  changed(): void;
  now(): number;
}

export interface TelegramBot {
  /** Sends and edits the ticket messages of every chat (the outbox's sender for `telegram:` targets). */
  sender: Sender<{ kind: 'telegram'; chatId: string }>;
  /** POST /telegram/webhook when `telegram.updates` is webhook. */
  routes: Router | undefined;
  start(): void;
  stop(): Promise<void>;
}

/** The bot: its messages, and (with `telegram.updates`) what people press and reply in the chats. */
export function createTelegram(d: TelegramDeps): TelegramBot | undefined {
  const cfg = d.config.telegram;
  if (!cfg) return undefined;
  const { forwarding } = d.config;
  const db = d.store.db;
  const api = botApi(cfg, forwarding.timeout);
  const metrics = telegramMetrics(d.metrics.registry);
  const signer = cfg.updates !== 'off' && cfg.callback_key ? callbackSigner(cfg.callback_key) : undefined;
  const messages = new TelegramMessages({
    db,
    api,
    locale: d.config.locale,
    publicUrl: d.config.public_url,
    ticketLink: d.ticketLink,
    signer,
    editWindowMs: cfg.edit_window,
    compose: (rows) => d.tickets.outgoing(rows),
    metrics,
    now: d.now,
  });
  const handler =
    signer &&
    new UpdateHandler({
      db,
      tickets: d.tickets,
      users: d.config.auth.users,
      signer,
      api,
      messages,
      metrics,
      logger: d.logger,
      locale: d.config.locale,
      changed: d.changed,
      now: d.now,
    });
  const poller =
    handler && cfg.updates === 'poll'
      ? new Poller({
          db,
          api,
          botToken: cfg.bot_token.reveal(),
          handle: (u) => handler.handle(u, 'poll'),
          metrics,
          logger: d.logger,
          pollTimeoutMs: cfg.poll_timeout,
          requestTimeoutMs: forwarding.timeout,
          retryBaseMs: forwarding.retry_base,
          retryMaxMs: forwarding.retry_max,
          now: d.now,
        })
      : undefined;
  const webhook = handler && cfg.updates === 'webhook' ? cfg.webhook_secret : undefined;
  const registration =
    webhook &&
    webhookRegistration({
      api,
      url: cfg.webhook_url ?? `${d.config.public_url.replace(/\/$/, '')}${WEBHOOK_PATH}`,
      secret: webhook,
      logger: d.logger,
      retryBaseMs: forwarding.retry_base,
      retryMaxMs: forwarding.retry_max,
    });

  let housekeeping: NodeJS.Timeout | undefined;
  const tidy = async () => {
    const now = d.now();
    try {
      await messages.forget(now - MESSAGE_MEMORY_MS);
      await db
        .deleteFrom('telegram_handled')
        .where('at', '<', now - HANDLED_MEMORY_MS)
        .execute();
    } catch (e) {
      d.logger.warn({ err: (e as Error).message }, 'telegram: housekeeping failed');
    }
  };

  return {
    sender: telegramSender(messages),
    routes:
      webhook && handler
        ? telegramWebhookRoutes({ secret: webhook, handle: (u) => handler.handle(u, 'webhook') })
        : undefined,
    start() {
      poller?.start();
      registration?.start();
      housekeeping = setInterval(() => void tidy(), HOUSEKEEPING_MS);
      housekeeping.unref();
    },
    async stop() {
      clearInterval(housekeeping);
      await poller?.stop();
      await registration?.stop();
    },
  };
}
