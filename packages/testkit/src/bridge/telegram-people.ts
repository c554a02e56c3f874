// The people, the bot and the bridge configuration of the Telegram tests (alert-bridge's telegram*.test.ts):
// named users with Telegram ids, presses of a message's buttons, and reading back what a press changed.
import type { TicketJson } from '@tillwatch/alert-bridge';
import { seriesValue } from '../exposition.js';
import { buttons, type BotMessage, type TelegramEmulator, type TelegramUser } from '../telegram.js';
import { api, waitFor, type startBridge } from './helpers.js';

export const TOKEN = '555:tillwatch-test-bot';
export const CALLBACK_KEY = 'callback-key-for-tests-0123456789abcdef';
export const CHAT = '-100500';
export const ALICE: TelegramUser = { id: 1001, first_name: 'Alice' };
export const VICTOR: TelegramUser = { id: 1002, first_name: 'Victor' };
export const OLGA: TelegramUser = { id: 1003, first_name: 'Olga' };
export const STRANGER: TelegramUser = { id: 999_999, first_name: 'Mallory' };

export const USERS = [
  { name: 'alice', role: 'operator', telegram_id: ALICE.id },
  { name: 'victor', role: 'viewer', telegram_id: VICTOR.id },
  { name: 'olga', role: 'operator', chains: ['c2'], telegram_id: OLGA.id },
];

export function bridgeConfig(tg: TelegramEmulator, telegram: Record<string, unknown> = {}) {
  return {
    telegram: {
      bot_token: TOKEN,
      base_url: tg.url,
      updates: 'poll',
      callback_key: CALLBACK_KEY,
      poll_timeout: '2s',
      ...telegram,
    },
    auth: { users: USERS },
    teams: { hardware: { telegram: [{ chat_id: CHAT }] } },
    notifications: { batch_wait: '100ms', min_interval: '100ms', max_items: 5 },
    forwarding: { poll_interval: '50ms', retry_base: '100ms' },
  };
}

export type Detail = TicketJson & {
  events: { type: string; actor: string; data: Record<string, unknown> }[];
};
export const ticketOf = async (url: string, id: number) => (await api<Detail>(url, `/tickets/${id}`)).body;

/** The ticket's id from the link at the end of its block. */
export const idIn = (m: BotMessage, place: string) => {
  const block = m.text.split('\n\n').find((b) => b.includes(place));
  const id = block && /#(\d+)<\/a>/.exec(block)?.[1];
  if (!id) throw new Error(`no ticket for ${place} in: ${m.text}`);
  return Number(id);
};

/** One series of the bridge's /metrics (0 when absent). */
export async function metric(url: string, series: string): Promise<number> {
  return seriesValue(await (await fetch(`${url}/metrics`)).text(), series) ?? 0;
}

/** What a refused action must leave as it was: the ticket, its history, and the handled-updates log. */
export async function storeState(ctx: Awaited<ReturnType<typeof startBridge>>, id: number) {
  const db = ctx.bridge.store.db;
  const t = await ticketOf(ctx.bridge.url, id);
  const count = async (table: 'events' | 'telegram_handled') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    status: t.status,
    version: t.version,
    assignee: t.assignee,
    events: await count('events'),
    handled: await count('telegram_handled'),
  };
}

/** Presses the button labelled `label` and waits for the bot's answer to this press. */
export async function press(tg: TelegramEmulator, who: TelegramUser, m: BotMessage, label: string) {
  const b = buttons(m).find((x) => x.text === label);
  if (!b?.callback_data) throw new Error(`no button "${label}" on: ${JSON.stringify(m.reply_markup)}`);
  return pressData(tg, who, m, b.callback_data);
}

export async function pressData(tg: TelegramEmulator, who: TelegramUser, m: BotMessage, data: string) {
  const n = tg.answers.length;
  await tg.press(who, m, data);
  return waitFor(() => tg.answers[n], `the answer to ${who.first_name}'s press`);
}

/** The bot's message about a place, once it is there with its buttons. */
export const messageAbout = (tg: TelegramEmulator, place: string) =>
  waitFor(
    () => tg.messages(CHAT).find((m) => m.text.includes(place) && m.reply_markup),
    `a message about ${place}`,
  );

export const current = (tg: TelegramEmulator, m: BotMessage) =>
  tg.messages().find((x) => x.message_id === m.message_id)!;
