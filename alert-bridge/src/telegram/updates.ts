import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { UserConfig } from '../auth/config.js';
import { can, sees, type Principal } from '../auth/principal.js';
import type { Database } from '../db/schema.js';
import type { Locale } from '../knowledge-base.js';
import { ConflictError, NotFoundError, type TicketDetail, type TicketService } from '../tickets/index.js';
import type { BotApi } from './api.js';
import type { CallbackSigner } from './callback.js';
import type { TelegramMessages } from './messages.js';
import type { TelegramMetrics } from './metrics.js';
import { botText, cutAnswer } from './text.js';

// The parts of a Telegram Update the bot reads (https://core.telegram.org/bots/api#update); anything
// else in it is ignored, as Telegram adds fields over time.
const user = z.looseObject({ id: z.number().int(), is_bot: z.boolean().optional() });
const chat = z.looseObject({ id: z.union([z.number().int(), z.string().min(1)]) });
const message = z.looseObject({
  message_id: z.number().int(),
  from: user.optional(),
  chat,
  text: z.string().optional(),
  caption: z.string().optional(),
  reply_to_message: z.looseObject({ message_id: z.number().int() }).optional(),
});
export const updateSchema = z.looseObject({
  update_id: z.number().int(),
  message: message.optional(),
  callback_query: z
    .looseObject({
      id: z.string().min(1),
      from: user,
      // Absent when the message is too old for Telegram to include.
      message: z.looseObject({ message_id: z.number().int(), chat }).optional(),
      data: z.string().optional(),
    })
    .optional(),
});
export type Update = z.infer<typeof updateSchema>;
type CallbackQuery = NonNullable<Update['callback_query']>;
type Message = NonNullable<Update['message']>;

// A comment is at most what the page accepts.
const COMMENT_MAX = 10_000;

export interface UpdateHandlerDeps {
  db: Kysely<Database>;
  tickets: TicketService;
  users: readonly UserConfig[];
  signer: CallbackSigner;
  api: BotApi;
  messages: TelegramMessages;
  metrics: TelegramMetrics;
  logger: Logger;
  locale: Locale;
  /** Wakes the outbox after a change (the other targets hear about it at once). */
  changed(): void;
  now(): number;
}

const firingNames = (t: TicketDetail) =>
  [...new Set(t.alerts.filter((a) => a.status === 'firing').map((a) => a.alertname))].sort();

/**
 * What people do in the chat: a press of a ticket's button becomes the same TicketService action as
 * on the page, and a reply to a ticket's message a comment, both recorded under the named user whose
 * `telegram_id` pressed or replied. Unknown people, viewers and people of other chains change nothing
 * and are told why.
 */
export class UpdateHandler {
  private readonly L;
  private readonly byTelegramId = new Map<number, UserConfig>();

  constructor(private readonly deps: UpdateHandlerDeps) {
    this.L = botText(deps.locale);
    for (const u of deps.users) if (u.telegram_id !== undefined) this.byTelegramId.set(u.telegram_id, u);
  }

  /** Handles one update; throws only when the store fails (the update should then come again). */
  async handle(update: Update, source: 'poll' | 'webhook'): Promise<void> {
    let handled = false;
    if (update.callback_query) handled = await this.press(update.callback_query);
    else if (update.message) handled = await this.reply(update.message);
    this.deps.metrics.updates.inc({ source, result: handled ? 'handled' : 'ignored' });
  }

  private principal(telegramId: number): Principal | undefined {
    const u = this.byTelegramId.get(telegramId);
    return u && { name: u.name, role: u.role, chains: u.chains, via: 'telegram' };
  }

  /** Acts once per update: Telegram may deliver one again. False when it was already handled. */
  private async claim(key: string): Promise<boolean> {
    const r = await this.deps.db
      .insertInto('telegram_handled')
      .values({ key, at: this.deps.now() })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('key')
      .executeTakeFirst();
    return r !== undefined;
  }

  /** Who may act on the ticket, or the sentence that says why not. */
  private async check(
    p: Principal,
    id: number,
  ): Promise<{ ticket: TicketDetail } | { refused: 'invalid' | 'refused_forbidden'; why: string }> {
    let ticket: TicketDetail;
    try {
      ticket = await this.deps.tickets.get(id);
    } catch (e) {
      if (e instanceof NotFoundError) return { refused: 'invalid', why: this.L.gone(id) };
      throw e;
    }
    // A ticket of another chain is "not yours" rather than "no such ticket": the person sees its
    // message in the chat anyway.
    if (!sees(p, ticket)) return { refused: 'refused_forbidden', why: this.L.otherChain(id) };
    if (!can(p, 'operator')) return { refused: 'refused_forbidden', why: this.L.viewer(p.name) };
    return { ticket };
  }

  private async press(q: CallbackQuery): Promise<boolean> {
    const { metrics, tickets, signer } = this.deps;
    const count = (result: string) => metrics.callbacks.inc({ result });
    const answer = (text: string, alert = false) => this.answer(q.id, text, alert);
    const button = signer.verify(q.data);
    if (!button) {
      count('invalid');
      await answer(this.L.invalid);
      return true;
    }
    const p = this.principal(q.from.id);
    if (!p) {
      count('refused_unknown_user');
      await answer(this.L.unknownUser(q.from.id), true);
      return true;
    }
    const id = button.ticketId;
    const ok = await this.check(p, id);
    if ('refused' in ok) {
      count(ok.refused);
      await answer(ok.why, true);
      return true;
    }
    if (!(await this.claim(`callback:${q.id}`))) {
      count('duplicate');
      return true;
    }
    const where = q.message && { chat: String(q.message.chat.id), id: q.message.message_id };
    try {
      if (button.action === 'acknowledge') await tickets.acknowledge(id, p.name);
      else await tickets.resolve(id, p.name, { force: button.action === 'force' });
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      count('conflict');
      const now = await tickets.get(id);
      const firing = firingNames(now);
      if (button.action === 'resolve' && firing.length && ['open', 'acknowledged'].includes(now.status)) {
        // The page's answer to the same refusal: the reason, and the forced resolve offered.
        await answer(this.L.firing(id, firing.join(', ')), true);
        await this.refresh(where, id);
        return true;
      }
      await answer(this.conflict(now), true);
      await this.refresh(where);
      return true;
    }
    count('done');
    this.deps.changed();
    await answer(button.action === 'acknowledge' ? this.L.acknowledged(id) : this.L.resolved(id));
    // Acknowledging goes to no chat as an event (only new, resolved and reopened tickets do): the
    // message pressed shows the change at once.
    await this.refresh(where);
    return true;
  }

  private conflict(t: TicketDetail): string {
    if (t.status === 'acknowledged') return this.L.taken(t.id, t.assignee ?? '—');
    if (t.status === 'resolved' || t.status === 'closed') return this.L.alreadyResolved(t.id);
    return this.L.notDone(t.id, t.status);
  }

  private async reply(m: Message): Promise<boolean> {
    const { metrics, tickets, messages } = this.deps;
    if (!m.reply_to_message || !m.from || m.from.is_bot) return false;
    const text = (m.text ?? m.caption ?? '').trim();
    if (!text) return false;
    const chat = String(m.chat.id);
    const ids = await messages.ticketsOf(chat, m.reply_to_message.message_id);
    // A reply to anything but a ticket's message is the chat's own talk.
    if (ids.length === 0) return false;
    const count = (result: string) => metrics.replies.inc({ result });
    const respond = (s: string) => this.respond(m, s);
    const p = this.principal(m.from.id);
    if (!p) {
      count('refused_unknown_user');
      await respond(this.L.unknownUser(m.from.id));
      return true;
    }
    let id = ids[0]!;
    let body = text;
    if (ids.length > 1) {
      const named = /^#(\d{1,18})\b[\s:,.—-]*/.exec(text);
      if (!named || !ids.includes(Number(named[1]))) {
        count('ambiguous');
        await respond(this.L.which(ids.map((i) => `#${i}`).join(', ')));
        return true;
      }
      id = Number(named[1]);
      body = text.slice(named[0].length).trim() || text;
    }
    const ok = await this.check(p, id);
    if ('refused' in ok) {
      count(ok.refused);
      await respond(ok.why);
      return true;
    }
    if (!(await this.claim(`message:${chat}:${m.message_id}`))) {
      count('duplicate');
      return true;
    }
    await tickets.comment(id, p.name, body.slice(0, COMMENT_MAX));
    count('done');
    this.deps.changed();
    await respond(this.L.commented(id));
    return true;
  }

  /** The toast (or, for a refusal, the alert box) the person sees after a press. */
  private async answer(queryId: string, text: string, alert: boolean): Promise<void> {
    try {
      await this.deps.api.call('answerCallbackQuery', {
        callback_query_id: queryId,
        text: cutAnswer(text),
        ...(alert ? { show_alert: true } : {}),
      });
    } catch (e) {
      // Telegram refuses answers to presses older than a few seconds (a slow store, a poll backlog):
      // what was done stands, only the toast is lost.
      this.deps.logger.info({ err: (e as Error).message }, 'telegram: press not answered');
    }
  }

  /** A short reply, without a notification, to the person's message. */
  private async respond(m: Message, text: string): Promise<void> {
    try {
      await this.deps.api.call('sendMessage', {
        chat_id: m.chat.id,
        text,
        reply_parameters: { message_id: m.message_id, allow_sending_without_reply: true },
        disable_notification: true,
      });
    } catch (e) {
      this.deps.logger.warn({ err: (e as Error).message }, 'telegram: reply not sent');
    }
  }

  private async refresh(where: { chat: string; id: number } | undefined, force?: number): Promise<void> {
    if (!where) return;
    try {
      await this.deps.messages.refresh(where.chat, where.id, force);
    } catch (e) {
      this.deps.logger.warn({ err: (e as Error).message }, 'telegram: message not refreshed after a press');
    }
  }
}
