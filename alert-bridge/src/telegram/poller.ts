import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { isTransient } from '../db/errors.js';
import type { Database } from '../db/schema.js';
import { TelegramError, type BotApi } from './api.js';
import type { TelegramMetrics } from './metrics.js';
import { updateSchema, type Update } from './updates.js';

export interface PollerDeps {
  db: Kysely<Database>;
  api: BotApi;
  botToken: string;
  handle(update: Update): Promise<void>;
  metrics: TelegramMetrics;
  logger: Logger;
  pollTimeoutMs: number;
  requestTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  now(): number;
}

/** The bot's id (the token's part before ":"), so the lease row never holds the secret part. */
export function botId(token: string): string {
  const i = token.indexOf(':');
  return i > 0 ? token.slice(0, i) : createHash('sha256').update(token).digest('hex').slice(0, 16);
}

/**
 * Long-polls getUpdates for the bot, one replica at a time. Telegram serves one getUpdates per bot and
 * ends the other with 409, so the replicas share a lease row in the database (telegram_poll): the
 * holder renews it before each poll and each update, the others check every few seconds and take it
 * once it has lapsed (a holder that stops gives it up at once). The row also keeps the offset of the
 * next update, so a replica taking over goes on where the last one stopped; an update handled twice
 * around a takeover acts once (telegram_handled).
 */
export class Poller {
  private readonly owner = randomUUID();
  private readonly bot: string;
  private readonly leaseMs: number;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly deps: PollerDeps) {
    this.bot = botId(deps.botToken);
    this.leaseMs = deps.pollTimeoutMs + deps.requestTimeoutMs + 5_000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.loop;
    // Hand the bot to another replica now rather than when the lease lapses.
    await this.deps.db
      .updateTable('telegram_poll')
      .set({ lease_until: 0 })
      .where('bot', '=', this.bot)
      .where('owner', '=', this.owner)
      .execute()
      .catch(() => undefined);
  }

  private async run(): Promise<void> {
    const { api, logger, metrics, pollTimeoutMs, requestTimeoutMs } = this.deps;
    // How often a replica without the lease looks whether it has lapsed.
    const standby = Math.max(1_000, Math.min(5_000, pollTimeoutMs));
    let failures = 0;
    let webhookCleared = false;
    while (!this.stopped) {
      try {
        let offset = await this.acquire();
        if (offset === undefined) {
          await this.sleep(standby);
          continue;
        }
        // getUpdates is refused while a webhook is set (say, from an earlier `updates: webhook`).
        if (!webhookCleared) {
          await api.call('deleteWebhook', { drop_pending_updates: false });
          webhookCleared = true;
        }
        this.abort = new AbortController();
        const updates = await api.call<unknown[]>(
          'getUpdates',
          {
            offset,
            timeout: Math.floor(pollTimeoutMs / 1000),
            allowed_updates: ['message', 'callback_query'],
          },
          { signal: this.abort.signal, timeoutMs: pollTimeoutMs + requestTimeoutMs },
        );
        failures = 0;
        for (const raw of updates) {
          if (this.stopped) break;
          const id = (raw as { update_id?: unknown } | null)?.update_id;
          if (typeof id !== 'number' || !Number.isSafeInteger(id)) continue;
          // Lost the lease (a long stall): the new holder goes on from the saved offset.
          if (!(await this.keep(offset))) break;
          const u = updateSchema.safeParse(raw);
          if (!u.success) metrics.updates.inc({ source: 'poll', result: 'ignored' });
          else {
            try {
              await this.deps.handle(u.data);
            } catch (e) {
              // A store that is down: poll this update again later. Anything else would fail again,
              // and must not hold up every later press.
              if (isTransient(e)) throw e;
              metrics.updates.inc({ source: 'poll', result: 'failed' });
              logger.error({ err: e, update: id }, 'telegram: update failed; skipped');
            }
          }
          offset = Math.max(offset, id + 1);
          await this.keep(offset);
        }
      } catch (e) {
        if (this.stopped) break;
        failures++;
        const backoff = Math.min(this.deps.retryBaseMs * 2 ** (failures - 1), this.deps.retryMaxMs);
        const wait = e instanceof TelegramError && e.retryAfterMs ? e.retryAfterMs : backoff;
        logger.warn({ err: (e as Error).message, retry_in_ms: wait }, 'telegram: getUpdates failed');
        await this.sleep(wait);
      }
    }
  }

  /** Takes or renews the lease; the offset to poll from, or undefined while another replica holds it. */
  private async acquire(): Promise<number | undefined> {
    const { db, now } = this.deps;
    await db
      .insertInto('telegram_poll')
      .values({ bot: this.bot, owner: null, lease_until: 0, next_offset: 0 })
      .onConflict((oc) => oc.column('bot').doNothing())
      .execute();
    const t = now();
    const r = await db
      .updateTable('telegram_poll')
      .set({ owner: this.owner, lease_until: t + this.leaseMs })
      .where('bot', '=', this.bot)
      .where((eb) => eb.or([eb('owner', '=', this.owner), eb('lease_until', '<', t)]))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return undefined;
    const row = await db
      .selectFrom('telegram_poll')
      .select('next_offset')
      .where('bot', '=', this.bot)
      .executeTakeFirstOrThrow();
    return row.next_offset;
  }

  /** Renews the lease and saves the offset; false when another replica holds the lease now. */
  private async keep(offset: number): Promise<boolean> {
    const r = await this.deps.db
      .updateTable('telegram_poll')
      .set({ next_offset: offset, lease_until: this.deps.now() + this.leaseMs })
      .where('bot', '=', this.bot)
      .where('owner', '=', this.owner)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }
}
