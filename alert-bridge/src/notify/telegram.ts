import type { Config } from '../config.js';
import { DeliveryError, httpError, type OutgoingEvent, type Sender } from '../delivery/sender.js';
import type { Locale } from '../knowledge-base.js';
import { telegramText, type TicketLink } from './render.js';

/** Telegram Bot API sendMessage (https://core.telegram.org/bots/api#sendmessage). */
export function telegramSender(
  cfg: NonNullable<Config['telegram']>,
  locale: Locale,
  publicUrl: string,
  timeoutMs: number,
  ticketLink?: TicketLink,
): Sender<{ kind: 'telegram'; chatId: string }> {
  const base = cfg.base_url.replace(/\/$/, '');
  return {
    kind: 'telegram',
    batch: true,
    async deliver(target, events: OutgoingEvent[], more) {
      const { chatId } = target;
      const res = await fetch(`${base}/bot${cfg.bot_token.reveal()}/sendMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          chat_id: chatId,
          text: telegramText(events, more, locale, publicUrl, ticketLink),
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
        }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = await res.text();
      if (res.status === 429) {
        // Telegram tells how long to wait; honour it instead of our own backoff.
        let after: number | undefined;
        try {
          after = (JSON.parse(body) as { parameters?: { retry_after?: number } }).parameters?.retry_after;
        } catch {
          /* keep default backoff */
        }
        throw new DeliveryError(
          'telegram: HTTP 429 too many requests',
          false,
          after ? after * 1000 : undefined,
        );
      }
      if (!res.ok) throw httpError(res.status, body.replace(cfg.bot_token.reveal(), '<secret>'), 'telegram');
    },
  };
}
