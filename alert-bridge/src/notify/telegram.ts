import type { Sender } from '../delivery/sender.js';
import { TelegramError } from '../telegram/api.js';
import type { TelegramMessages } from '../telegram/messages.js';

/**
 * The outbox's sender for team chats: each batch of a chat's events becomes edits of the messages
 * that already show those tickets and one new message for the rest (src/telegram/messages.ts).
 * Telegram's 429 waits its retry_after; 5xx and network faults retry; other 4xx fail the rows.
 */
export function telegramSender(messages: TelegramMessages): Sender<{ kind: 'telegram'; chatId: string }> {
  return {
    kind: 'telegram',
    batch: true,
    async deliver(target, events, more) {
      try {
        await messages.deliver(target.chatId, events, more);
      } catch (e) {
        throw e instanceof TelegramError ? e.toDelivery() : e;
      }
    },
  };
}
