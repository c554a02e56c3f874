import type { Config } from '../config.js';
import { DeliveryError, httpError } from '../delivery/sender.js';

/** A Bot API call Telegram refused (https://core.telegram.org/bots/api#making-requests). */
export class TelegramError extends Error {
  constructor(
    readonly status: number,
    readonly description: string,
    readonly retryAfterMs?: number,
  ) {
    super(`telegram: HTTP ${status}: ${description}`);
  }

  /** "message is not modified": the message already reads as asked, which is what an edit wanted. */
  get notModified(): boolean {
    return this.status === 400 && /message is not modified/i.test(this.description);
  }

  /** The message cannot be edited any more (deleted, too old, not the bot's): send a new one instead. */
  get uneditable(): boolean {
    return (
      this.status === 400 &&
      /message to edit not found|message can't be edited|MESSAGE_ID_INVALID|message not found/i.test(
        this.description,
      )
    );
  }

  /** As a delivery failure: 429 waits Telegram's retry_after, 5xx and 408 retry, other 4xx are final. */
  toDelivery(): DeliveryError {
    if (this.status === 429) return new DeliveryError(this.message, false, this.retryAfterMs);
    return httpError(this.status, this.description, 'telegram');
  }
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Instead of forwarding.timeout (getUpdates holds the request for its own timeout first). */
  timeoutMs?: number;
}

export interface BotApi {
  call<T = unknown>(method: string, body: Record<string, unknown>, opts?: CallOptions): Promise<T>;
}

/**
 * The Bot API over fetch: JSON in, `result` out, a TelegramError for `ok: false`. Written by hand
 * because the bridge calls six methods; a bot framework (grammY, Telegraf) would bring its own update
 * loop, which the bridge needs to run itself (lease between replicas, offsets in the database).
 */
export function botApi(cfg: NonNullable<Config['telegram']>, timeoutMs: number): BotApi {
  const base = cfg.base_url.replace(/\/$/, '');
  const token = cfg.bot_token.reveal();
  return {
    async call<T>(method: string, body: Record<string, unknown>, opts: CallOptions = {}) {
      const timeout = AbortSignal.timeout(opts.timeoutMs ?? timeoutMs);
      const res = await fetch(`${base}/bot${token}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
      });
      const text = await res.text();
      let parsed: { ok?: boolean; result?: T; description?: string; parameters?: { retry_after?: number } };
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        parsed = {};
      }
      if (res.ok && parsed.ok === true) return parsed.result as T;
      const after = parsed.parameters?.retry_after;
      throw new TelegramError(
        res.status,
        (parsed.description ?? text.slice(0, 200)).replaceAll(token, '<secret>'),
        after ? after * 1000 : undefined,
      );
    },
  };
}
