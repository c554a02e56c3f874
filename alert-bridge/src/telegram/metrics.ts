import { Counter, type Registry } from 'prom-client';

/** The bot's counters, on the bridge's registry (README, Metrics). */
export function telegramMetrics(registry: Registry) {
  const p = 'tillwatch_bridge_telegram_';
  return {
    callbacks: new Counter({
      name: `${p}callbacks_total`,
      help: 'Button presses handled, by result: done, conflict (the ticket was not in a state for it), refused_unknown_user, refused_forbidden (viewer or another chain), invalid (forged or unknown data, no such ticket), duplicate (an update delivered again).',
      labelNames: ['result'],
      registers: [registry],
    }),
    replies: new Counter({
      name: `${p}replies_total`,
      help: "Replies to a ticket's message, by result: done (recorded as a comment), ambiguous (a message of several tickets, no #id), refused_unknown_user, refused_forbidden, duplicate.",
      labelNames: ['result'],
      registers: [registry],
    }),
    edits: new Counter({
      name: `${p}edits_total`,
      help: 'Edits of a ticket message in place, by result: edited, not_modified, resent (the message could no longer be edited; a new one was sent).',
      labelNames: ['result'],
      registers: [registry],
    }),
    updates: new Counter({
      name: `${p}updates_total`,
      help: 'Updates received from Telegram, by source (poll, webhook) and result (handled, ignored, failed).',
      labelNames: ['source', 'result'],
      registers: [registry],
    }),
  };
}

export type TelegramMetrics = ReturnType<typeof telegramMetrics>;
