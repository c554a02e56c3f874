import type { Kysely } from 'kysely';
import type { Database, TelegramMessagesTable } from '../db/schema.js';
import type { OutgoingEvent } from '../delivery/sender.js';
import type { Locale } from '../knowledge-base.js';
import { escapeHtml, telegramText, type TicketLink } from '../notify/render.js';
import { TelegramError, type BotApi } from './api.js';
import type { ButtonAction, CallbackSigner } from './callback.js';
import type { TelegramMetrics } from './metrics.js';
import { botText } from './text.js';

// Telegram's limit on a message's text; telegramText stays under 4,000, the status lines go in the rest.
const TEXT_MAX = 4_096;

interface Button {
  text: string;
  callback_data: string;
}
type Keyboard = { inline_keyboard: Button[][] };

export interface TelegramMessagesDeps {
  db: Kysely<Database>;
  api: BotApi;
  locale: Locale;
  publicUrl: string;
  ticketLink?: TicketLink | undefined;
  /** Without it (telegram.updates: off) messages carry no buttons: nobody would hear the presses. */
  signer?: CallbackSigner | undefined;
  editWindowMs: number;
  /** The outgoing events of stored (event, ticket) pairs, the ticket as it stands now. */
  compose(rows: { event_id: string; ticket_id: number; event_type: string }[]): Promise<OutgoingEvent[]>;
  metrics: TelegramMetrics;
  now(): number;
}

interface Rendered {
  text: string;
  keyboard: Keyboard | undefined;
  /** How many of the events the text shows (the rest are in its "and N more"). */
  shown: number;
}

/**
 * The bot's ticket messages: one message per burst of new tickets, each ticket shown with its buttons,
 * and every later event of a ticket an edit of the message that shows it (while the message is younger
 * than telegram.edit_window), so a chat keeps one message per problem that follows the ticket.
 *
 * The text is telegramText's; this adds the keyboard, a status line per ticket someone took or resolved,
 * and remembers (telegram_messages) which message shows which tickets with which event, so an edit
 * re-renders the whole message as composed, and a press or a reply on it finds its tickets.
 */
export class TelegramMessages {
  private readonly L;

  constructor(private readonly deps: TelegramMessagesDeps) {
    this.L = botText(deps.locale);
  }

  /**
   * One batch of a chat's events: tickets that have a recent message get it edited, the others one
   * new message. Throws TelegramError (the caller maps it to a delivery retry); every step is safe to
   * repeat, as an edit that changes nothing counts as done.
   */
  async deliver(chatId: string, events: OutgoingEvent[], more: number): Promise<void> {
    // The message shows each ticket as it stands: its latest event of the batch, in first-seen order.
    const latest = new Map<number, OutgoingEvent>();
    for (const e of events) latest.set(e.ticket.id, e);
    const since = this.deps.now() - this.deps.editWindowMs;
    const found = latest.size
      ? await this.deps.db
          .selectFrom('telegram_messages')
          .select(['ticket_id', 'message_id'])
          .where('chat_id', '=', chatId)
          .where('ticket_id', 'in', [...latest.keys()])
          .where('sent_at', '>=', since)
          .orderBy('message_id', 'desc')
          .execute()
      : [];
    const messageOf = new Map<number, number>();
    for (const r of found) {
      // A reopened problem gets a new message: an edit does not notify anyone, and the message may be
      // far up the chat by now. Later events edit the new one.
      // An escalation must be heard too: each step is a new message.
      const type = latest.get(r.ticket_id)?.type;
      if (type === 'ticket.reopened' || type === 'ticket.escalated') continue;
      if (!messageOf.has(r.ticket_id)) messageOf.set(r.ticket_id, r.message_id);
    }
    const edits = new Map<number, Map<number, OutgoingEvent>>();
    for (const [id, e] of latest) {
      const m = messageOf.get(id);
      if (m === undefined) continue;
      const group = edits.get(m) ?? new Map<number, OutgoingEvent>();
      group.set(id, e);
      edits.set(m, group);
    }
    const resend = new Set<number>();
    for (const [messageId, group] of edits) {
      if (!(await this.edit(chatId, messageId, group))) for (const id of group.keys()) resend.add(id);
    }
    const fresh = [...latest.values()].filter((e) => !messageOf.has(e.ticket.id) || resend.has(e.ticket.id));
    if (fresh.length > 0 || more > 0) await this.send(chatId, fresh, more);
  }

  /**
   * Re-renders a message from its tickets as they stand now (after a press), optionally offering the
   * forced resolve for one ticket. False when the message is unknown or can no longer be edited.
   */
  async refresh(tgChatId: string, messageId: number, force?: number): Promise<boolean> {
    const row = await this.deps.db
      .selectFrom('telegram_messages')
      .select('chat_id')
      .where('tg_chat_id', '=', tgChatId)
      .where('message_id', '=', messageId)
      .executeTakeFirst();
    return row ? this.edit(row.chat_id, messageId, new Map(), force) : false;
  }

  /** The tickets a message shows, in order (empty for any other message). */
  async ticketsOf(tgChatId: string, messageId: number): Promise<number[]> {
    const rows = await this.deps.db
      .selectFrom('telegram_messages')
      .select('ticket_id')
      .where('tg_chat_id', '=', tgChatId)
      .where('message_id', '=', messageId)
      .orderBy('position')
      .execute();
    return rows.map((r) => r.ticket_id);
  }

  /** Forgets messages sent before `before` (a reply to one is then no longer a comment). */
  async forget(before: number): Promise<number> {
    const r = await this.deps.db
      .deleteFrom('telegram_messages')
      .where('sent_at', '<', before)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  private async send(chatId: string, events: OutgoingEvent[], more: number): Promise<void> {
    const r = this.render(events, more);
    const sent = await this.deps.api.call<{ message_id: number; chat?: { id: number | string } }>(
      'sendMessage',
      {
        chat_id: chatId,
        text: r.text,
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        ...(r.keyboard && r.keyboard.inline_keyboard.length ? { reply_markup: r.keyboard } : {}),
      },
    );
    const shown = events.slice(0, r.shown);
    if (shown.length === 0) return;
    const now = this.deps.now();
    await this.deps.db
      .insertInto('telegram_messages')
      .values(
        shown.map((e, i) => ({
          chat_id: chatId,
          message_id: sent.message_id,
          ticket_id: e.ticket.id,
          tg_chat_id: String(sent.chat?.id ?? chatId),
          position: i,
          event_id: e.id,
          event_type: e.type,
          more: more + events.length - r.shown,
          sent_at: now,
        })),
      )
      .onConflict((oc) => oc.columns(['chat_id', 'message_id', 'ticket_id']).doNothing())
      .execute();
  }

  /** Edits a message with new events for some of its tickets; false if it can no longer be edited. */
  private async edit(
    chatId: string,
    messageId: number,
    replace: Map<number, OutgoingEvent>,
    force?: number,
  ): Promise<boolean> {
    const { db, metrics } = this.deps;
    const rows = await db
      .selectFrom('telegram_messages')
      .selectAll()
      .where('chat_id', '=', chatId)
      .where('message_id', '=', messageId)
      .orderBy('position')
      .execute();
    if (rows.length === 0) return false;
    const stored = await this.composeStored(rows.filter((r) => !replace.has(r.ticket_id)));
    const events = rows
      .map((r) => replace.get(r.ticket_id) ?? stored.get(r.ticket_id))
      .filter((e): e is OutgoingEvent => e !== undefined);
    if (events.length === 0) return false;
    const r = this.render(events, rows[0]!.more, force);
    try {
      await this.deps.api.call('editMessageText', {
        chat_id: rows[0]!.tg_chat_id,
        message_id: messageId,
        text: r.text,
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        // An empty keyboard removes the buttons of a ticket nobody can act on any more.
        ...(r.keyboard ? { reply_markup: r.keyboard } : {}),
      });
      metrics.edits.inc({ result: 'edited' });
    } catch (e) {
      if (e instanceof TelegramError && e.notModified) metrics.edits.inc({ result: 'not_modified' });
      else if (e instanceof TelegramError && e.uneditable) {
        metrics.edits.inc({ result: 'resent' });
        await db
          .deleteFrom('telegram_messages')
          .where('chat_id', '=', chatId)
          .where('message_id', '=', messageId)
          .execute();
        return false;
      } else throw e;
    }
    for (const e of replace.values()) {
      await db
        .updateTable('telegram_messages')
        .set({ event_id: e.id, event_type: e.type })
        .where('chat_id', '=', chatId)
        .where('message_id', '=', messageId)
        .where('ticket_id', '=', e.ticket.id)
        .execute();
    }
    return true;
  }

  /** The events a message showed, composed anew; tickets deleted since (retention) drop out. */
  private async composeStored(
    rows: Pick<TelegramMessagesTable, 'event_id' | 'ticket_id' | 'event_type'>[],
  ): Promise<Map<number, OutgoingEvent>> {
    if (rows.length === 0) return new Map();
    const live = new Set(
      (
        await this.deps.db
          .selectFrom('tickets')
          .select('id')
          .where(
            'id',
            'in',
            rows.map((r) => r.ticket_id),
          )
          .execute()
      ).map((t) => t.id),
    );
    const events = await this.deps.compose(rows.filter((r) => live.has(r.ticket_id)));
    return new Map(events.map((e) => [e.ticket.id, e]));
  }

  private render(events: OutgoingEvent[], more: number, force?: number): Rendered {
    const { locale, publicUrl, ticketLink } = this.deps;
    const text = (k: number) =>
      telegramText(events.slice(0, k), more + events.length - k, locale, publicUrl, ticketLink);
    const full = text(events.length);
    // telegramText keeps the blocks that fit and counts the rest in its "and N more": the events it
    // shows are the shortest prefix that renders the same text. Only those get buttons and are
    // remembered, found without reaching into how the text is composed.
    let shown = events.length;
    while (shown > 1 && text(shown - 1) === full) shown--;
    const visible = events.slice(0, shown);
    const status = this.statusLines(visible);
    const withStatus = status.length ? `${full}\n\n${status.join('\n')}` : full;
    return {
      text: withStatus.length <= TEXT_MAX ? withStatus : full,
      keyboard: this.keyboard(visible, force),
      shown,
    };
  }

  /** Who took or resolved each ticket shown, under the text (the blocks do not say it). */
  private statusLines(events: OutgoingEvent[]): string[] {
    const out: string[] = [];
    for (const e of events) {
      const t = e.ticket;
      if (t.status === 'acknowledged' && t.assignee)
        out.push(this.L.statusTaken(t.id, escapeHtml(t.assignee)));
      else if (t.status === 'resolved' && e.type === 'ticket.resolved' && e.data.by === 'human')
        out.push(this.L.statusResolved(t.id, escapeHtml(e.actor)));
    }
    return out;
  }

  /** A row of buttons per ticket someone can still act on; in a message of several, each names its ticket. */
  private keyboard(events: OutgoingEvent[], force?: number): Keyboard | undefined {
    const signer = this.deps.signer;
    if (!signer) return undefined;
    const several = events.length > 1;
    const rows: Button[][] = [];
    for (const e of events) {
      const t = e.ticket;
      const button = (action: ButtonAction): Button => ({
        text: several ? `#${t.id} · ${this.L[action]}` : this.L[action],
        callback_data: signer.sign(action, t.id),
      });
      const row: Button[] = [];
      if (t.status === 'open') row.push(button('acknowledge'));
      if (t.status === 'open' || t.status === 'acknowledged')
        row.push(button(force === t.id ? 'force' : 'resolve'));
      if (row.length) rows.push(row);
    }
    return { inline_keyboard: rows };
  }
}
