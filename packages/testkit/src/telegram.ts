// The Telegram Bot API emulator of the tests and the demo stack: telegram-test-api (npm) behind a thin
// front. NOT Telegram. The library keeps the bot's messages, edits them in place, queues users' messages
// and button presses for getUpdates and posts them to a webhook; the front adds what it lacks and what
// the bridge relies on Telegram for (each named where it is done below).
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { TelegramServer } from 'telegram-test-api/lib/telegramServer.js';
import { LOOPBACK, close, freePort } from './ports.js';

export interface InlineButton {
  text: string;
  callback_data?: string;
  url?: string;
}

/** A message of the bot as a person would see it now (after any edit). */
export interface BotMessage {
  message_id: number;
  chat_id: string;
  text: string;
  parse_mode?: string;
  reply_markup?: { inline_keyboard: InlineButton[][] };
  /** The message this one answers (the bot's replies to people). */
  reply_to?: number;
  received_at: string;
  edited_at?: string;
  /** How many times the text or the keyboard was edited. */
  edits: number;
}

/** What the bot answered to a button press (answerCallbackQuery): the toast or alert the person sees. */
export interface CallbackAnswer {
  callback_query_id: string;
  text?: string;
  show_alert?: boolean;
}

export interface TelegramUser {
  id: number;
  first_name?: string;
}

// Telegram's HTML mode accepts these tags only; anything else is refused with "can't parse entities".
const HTML_TAG = /<(?!\/?(b|strong|i|em|u|ins|s|strike|del|a|code|pre|span|tg-spoiler|blockquote)\b)[^>]*>/;
const TEXT_MAX = 4096;
const CALLBACK_DATA_MAX = 64;
// The library forgets messages after storeTimeout seconds (60 by default); the stack keeps them a week.
const STORE_SECONDS = 7 * 86_400;

type Update = Record<string, unknown>;

// Hand-written: five characters to escape do not justify a dependency.
const escapeHtml = (t: string) =>
  t.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A message's text as Telegram shows it: in HTML mode the tags Telegram accepts are kept (links only to
 * http(s) addresses), everything else is shown as the characters it is.
 */
function messageHtml(m: BotMessage): string {
  const text = escapeHtml(m.text);
  if (m.parse_mode !== 'HTML') return text;
  return text
    .replace(/&lt;(\/?)(b|strong|i|em|u|ins|s|strike|del|code|pre|blockquote)&gt;/g, '<$1$2>')
    .replace(/&lt;a href=&quot;(https?:\/\/(?:(?!&quot;)[^<>])*)&quot;&gt;/g, '<a href="$1">')
    .replace(/&lt;\/a&gt;/g, '</a>');
}

/** GET /messages in a browser: every chat with the bot's messages, newest first, and their buttons. */
function messagesPage(list: BotMessage[], answers: CallbackAnswer[]): string {
  const chats = new Map<string, BotMessage[]>();
  for (const m of [...list].reverse()) chats.set(m.chat_id, [...(chats.get(m.chat_id) ?? []), m]);
  const msg = (m: BotMessage) => {
    const buttons = (m.reply_markup?.inline_keyboard ?? [])
      .flat()
      .map((b) => `<span class="button">${escapeHtml(b.text)}</span>`)
      .join(' ');
    const when = `${m.received_at.replace('T', ' ').slice(0, 19)} UTC${
      m.edited_at ? `, edited ${m.edits}× (last ${m.edited_at.replace('T', ' ').slice(0, 19)})` : ''
    }${m.reply_to !== undefined ? `, reply to #${m.reply_to}` : ''}`;
    return `<li id="m${m.message_id}"><div class="meta">#${m.message_id} · ${escapeHtml(when)}</div><div class="text">${messageHtml(m)}</div>${buttons ? `<div>${buttons}</div>` : ''}</li>`;
  };
  const sections = [...chats]
    .map(
      ([chat, ms]) =>
        `<h2>Chat ${escapeHtml(chat)} (${ms.length})</h2><ol class="messages">${ms.map(msg).join('')}</ol>`,
    )
    .join('');
  const toasts = answers.length
    ? `<h2>Answers to button presses</h2><ul>${answers.map((a) => `<li>${escapeHtml(a.text ?? '(no text)')}${a.show_alert ? ' (alert)' : ''}</li>`).join('')}</ul>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<title>Telegram emulator: ${list.length} messages</title>
<style>body{font:15px/1.4 system-ui,sans-serif;margin:1.5em;max-width:60em}ol,ul{padding-left:1.2em}
li{margin:.6em 0;padding:.5em .8em;background:#eef4fb;border-radius:.5em;list-style:none}
.meta{color:#555;font-size:12px}.text{white-space:pre-wrap}
.button{display:inline-block;margin:.3em .3em 0 0;padding:.15em .7em;border:1px solid #5b8fc7;border-radius:.4em;color:#24527f}</style>
</head><body><h1>Telegram Bot API emulator</h1>
<p>What the bridge's bot sent, as edited since, newest first; refreshed every 10 s. Not Telegram: nothing
leaves this machine. The same list as JSON: <code>curl -H 'accept: application/json' …/messages</code>;
press a button as a Telegram user with <code>POST /sendCallback</code> (packages/testkit/README.md).</p>
${sections || '<p>No messages yet: inject a fault (README, Quick start) and wait about 20 s.</p>'}${toasts}
</body></html>
`;
}

const fail = (res: Response, code: number, description: string, extra: Record<string, unknown> = {}) =>
  res.status(code).json({ ok: false, error_code: code, description, ...extra });

/**
 * Starts the emulator on 127.0.0.1 (`port` 0: any free port). `url` is the bot API base for the bridge's
 * `telegram.base_url`; `GET /messages` lists what the bot sent (and what it answered to presses).
 */
export async function startTelegramEmulator(token: string, opts: { port?: number; host?: string } = {}) {
  const lib = new TelegramServer({ port: await freePort(), host: LOOPBACK, storeTimeout: STORE_SECONDS });
  await lib.start();
  const libUrl = lib.config.apiURL;
  const answers: CallbackAnswer[] = [];
  const edited = new Map<number, { at: string; count: number }>();
  const webhooks = new Map<string, { url: string; secret?: string }>();
  const relayed: { status: number; update: Update }[] = [];
  const polls = { conflicts: 0, calls: 0 };
  let holder: { end(): void } | undefined;
  const state = {
    /** The next N sends or edits answer 429 with retry_after 1, like Telegram's flood control. */
    tooMany: 0,
    /** Messages Telegram no longer lets the bot edit (too old, or deleted by someone). */
    uneditable: new Set<number>(),
  };

  const forward = async (path: string, body: unknown) => {
    const r = await fetch(`${libUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    return { status: r.status, body: (await r.json()) as { ok: boolean; result?: unknown } };
  };

  const stored = (chat: unknown, id: unknown) =>
    lib.storage.botMessages.find(
      (u) =>
        u.botToken === token &&
        String(u.messageId) === String(id) &&
        String(u.message.chat_id) === String(chat),
    );

  const messages = (chatId?: string): BotMessage[] =>
    lib.storage.botMessages
      .filter((u) => u.botToken === token && (chatId === undefined || String(u.message.chat_id) === chatId))
      .map((u) => {
        const m = u.message as Record<string, unknown>;
        const e = edited.get(u.messageId);
        const replyTo = (m.reply_parameters as { message_id?: number } | undefined)?.message_id;
        return {
          message_id: u.messageId,
          chat_id: String(m.chat_id),
          text: String(m.text ?? ''),
          ...(m.parse_mode ? { parse_mode: String(m.parse_mode) } : {}),
          ...(m.reply_markup ? { reply_markup: m.reply_markup as BotMessage['reply_markup'] } : {}),
          ...(replyTo !== undefined ? { reply_to: replyTo } : {}),
          received_at: new Date(u.time).toISOString(),
          ...(e ? { edited_at: e.at } : {}),
          edits: e?.count ?? 0,
        };
      });

  /** What Telegram checks and the library does not: text, HTML entities, the keyboard's callback data. */
  function invalid(b: Record<string, unknown>): string | undefined {
    if (typeof b.text !== 'string' || b.text.trim() === '') return 'Bad Request: message text is empty';
    if (b.text.length > TEXT_MAX) return 'Bad Request: message is too long';
    if (b.parse_mode === 'HTML' && HTML_TAG.test(b.text)) return "Bad Request: can't parse entities";
    const markup = b.reply_markup;
    const rows = (markup as { inline_keyboard?: unknown } | undefined)?.inline_keyboard;
    if (markup !== undefined && !Array.isArray(rows)) return 'Bad Request: unsupported reply markup';
    for (const row of (rows ?? []) as unknown[]) {
      if (!Array.isArray(row)) return 'Bad Request: inline keyboard rows must be arrays';
      for (const btn of row as InlineButton[]) {
        if (!btn.text) return 'Bad Request: BUTTON_TEXT_EMPTY';
        if (btn.callback_data !== undefined && Buffer.byteLength(btn.callback_data) > CALLBACK_DATA_MAX)
          return 'Bad Request: BUTTON_DATA_INVALID';
      }
    }
    return undefined;
  }

  const app = express();
  app.use(express.json({ limit: '1mb' }));
  app.get('/messages', (req, res) => {
    // A browser (Accept: text/html first) gets the chats as a person reads them; a client such as fetch
    // (Accept: */*) or `curl -H 'accept: application/json'` gets the JSON the tests read.
    if (req.accepts(['json', 'html']) === 'html') {
      res.type('html').send(messagesPage(messages(), answers));
      return;
    }
    res.json({ emulator: 'Telegram Bot API emulator (telegram-test-api)', messages: messages(), answers });
  });
  app.get('/', (_req, res) => res.redirect('/messages'));
  // The library's client API (what a person's Telegram app would send: a press, a message), for a test
  // or a person driving the stack's emulator from outside; see `press` and `reply` below for the shapes.
  app.post(['/sendCallback', '/sendMessage'], async (req, res) => {
    const r = await forward(req.path, { ...(req.body as object), botToken: token });
    res.status(r.status).json(r.body);
  });

  // The library posts updates for a webhook without Telegram's secret_token header: it posts here,
  // and this relay adds the header the bot asked for in setWebhook.
  app.post('/relay/:token', async (req, res) => {
    const hook = webhooks.get(req.params.token);
    if (!hook) return res.status(404).end();
    const r = await fetch(hook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(hook.secret ? { 'x-telegram-bot-api-secret-token': hook.secret } : {}),
      },
      body: JSON.stringify(req.body),
    }).catch(() => undefined);
    relayed.push({ status: r?.status ?? 0, update: req.body as Update });
    await r?.body?.cancel();
    // Always 200 to the library: it does not handle a failed webhook call.
    res.json({ ok: true });
  });

  app.post('/bot:token/:method', async (req: Request<{ token: string; method: string }>, res) => {
    if (req.params.token !== token) return fail(res, 401, 'Unauthorized');
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b.reply_markup === 'string') b.reply_markup = JSON.parse(b.reply_markup) as unknown;
    const path = `/bot${token}/${req.params.method}`;
    switch (req.params.method) {
      case 'sendMessage':
      case 'editMessageText':
      case 'editMessageReplyMarkup': {
        if (state.tooMany > 0) {
          state.tooMany--;
          return fail(res, 429, 'Too Many Requests: retry after 1', { parameters: { retry_after: 1 } });
        }
        if (b.chat_id === undefined || b.chat_id === '') return fail(res, 400, 'Bad Request: chat not found');
        if (req.params.method === 'sendMessage') {
          const why = invalid(b);
          if (why) return fail(res, 400, why);
          const r = await forward(path, b);
          return res.status(r.status).json(r.body);
        }
        const old = stored(b.chat_id, b.message_id);
        if (!old) return fail(res, 400, 'Bad Request: message to edit not found');
        if (state.uneditable.has(old.messageId))
          return fail(res, 400, "Bad Request: message can't be edited");
        // An edit without reply_markup removes the keyboard, as on Telegram.
        const next = { ...old.message, ...b, reply_markup: b.reply_markup } as Record<string, unknown>;
        const why = invalid(next);
        if (why) return fail(res, 400, why);
        // Telegram refuses an edit that changes nothing; the bridge must take that as done.
        const before = old.message as Record<string, unknown>;
        if (
          next.text === before.text &&
          JSON.stringify(next.reply_markup ?? null) === JSON.stringify(before.reply_markup ?? null)
        )
          return fail(
            res,
            400,
            'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
          );
        // The library merges the edit into the stored message and so would keep a keyboard the edit
        // leaves out.
        if (b.reply_markup === undefined) delete (old.message as Record<string, unknown>).reply_markup;
        const r = await forward(path, b);
        if (r.status !== 200) return res.status(r.status).json(r.body);
        const e = edited.get(old.messageId);
        edited.set(old.messageId, { at: new Date().toISOString(), count: (e?.count ?? 0) + 1 });
        const now = stored(b.chat_id, b.message_id)!.message as Record<string, unknown>;
        return res.json({
          ok: true,
          result: { message_id: old.messageId, chat: { id: Number(now.chat_id) }, text: now.text },
        });
      }
      case 'answerCallbackQuery': {
        // The library answers without keeping what was said; the person's toast is what a test checks.
        answers.push({
          callback_query_id: String(b.callback_query_id),
          ...(typeof b.text === 'string' ? { text: b.text } : {}),
          ...(b.show_alert === true ? { show_alert: true } : {}),
        });
        const r = await forward(path, b);
        return res.status(r.status).json(r.body);
      }
      case 'setWebhook': {
        if (typeof b.url !== 'string' || b.url === '') return fail(res, 400, 'Bad Request: bad webhook url');
        const secret = typeof b.secret_token === 'string' ? b.secret_token : undefined;
        webhooks.set(token, { url: b.url, ...(secret ? { secret } : {}) });
        const r = await forward(path, { url: `${api.url}/relay/${token}` });
        return res.status(r.status).json({ ok: true, result: true });
      }
      case 'deleteWebhook': {
        webhooks.delete(token);
        await forward(path, {});
        return res.json({ ok: true, result: true });
      }
      case 'getUpdates': {
        polls.calls++;
        // Telegram's rules that the library does not keep: no polling while a webhook is set, and a
        // second getUpdates of one bot ends the one still waiting with 409.
        if (webhooks.has(token))
          return fail(res, 409, "Conflict: can't use getUpdates method while webhook is active");
        if (holder) {
          polls.conflicts++;
          holder.end();
        }
        let ended = false;
        let wake = () => {};
        const me = {
          end: () => {
            ended = true;
            wake();
          },
        };
        holder = me;
        // A poller that went away (aborted, stopped) is no longer waiting: its successor is no conflict.
        res.on('close', () => {
          if (holder === me) holder = undefined;
          me.end();
        });
        try {
          // Long polling (the library answers at once): hold an empty answer until an update arrives.
          const until = Date.now() + Math.min(Number(b.timeout ?? 0), 50) * 1000;
          for (;;) {
            // Checked before asking the library, which marks what it returns as read.
            if (ended || res.destroyed)
              return res.destroyed
                ? undefined
                : fail(res, 409, 'Conflict: terminated by other getUpdates request');
            const r = await forward(path, b);
            const got = (r.body.result as unknown[] | undefined) ?? [];
            if (got.length > 0 || Date.now() >= until) return res.status(r.status).json(r.body);
            const ac = new AbortController();
            await Promise.race([
              once(lib, 'AddedUserMessage', { signal: ac.signal }),
              once(lib, 'AddedUserCallbackQuery', { signal: ac.signal }),
              new Promise<void>((r2) => {
                wake = r2;
                setTimeout(r2, Math.min(until - Date.now(), 200));
              }),
            ]).catch(() => undefined);
            ac.abort();
          }
        } finally {
          if (holder === me) holder = undefined;
        }
      }
      default: {
        const r = await forward(path, b);
        return res.status(r.status).json(r.body);
      }
    }
  });

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, opts.host ?? LOOPBACK, () => resolve(s));
    s.once('error', reject);
  });
  const addr = server.address() as AddressInfo;

  /** A person's actions in the chat, through the library's client API (what a Telegram app would send). */
  const client = (from: TelegramUser) =>
    lib.getClient(token, { userId: from.id, firstName: from.first_name ?? `user${from.id}` });

  const api = {
    /** Bot API base URL for the bridge's telegram.base_url. */
    url: `http://${addr.address}:${addr.port}`,
    state,
    answers,
    /** The webhook the bot set (setWebhook), if any: where updates go and the secret they carry. */
    webhook: () => webhooks.get(token),
    /** What the library posted to the bot's webhook, with the bot's HTTP status. */
    relayed,
    /** getUpdates calls, and how many met another one of the same bot still waiting (which got 409). */
    polls,
    messages,
    /** The person presses a button of a bot message. */
    async press(from: TelegramUser, message: BotMessage, data: string): Promise<void> {
      const c = client(from);
      await c.sendCallback(
        c.makeCallbackQuery(data, {
          message: { message_id: message.message_id, chat: { id: Number(message.chat_id) } },
        }) as Parameters<typeof c.sendCallback>[0],
      );
    },
    /** The person answers a bot message with a reply. */
    async reply(from: TelegramUser, to: BotMessage, text: string): Promise<void> {
      const c = client(from);
      await c.sendMessage(
        c.makeMessage(text, {
          chat: { id: Number(to.chat_id), type: 'supergroup' },
          reply_to_message: { message_id: to.message_id, chat: { id: Number(to.chat_id) } },
        } as Parameters<typeof c.makeMessage>[1]),
      );
    },
    async close(): Promise<void> {
      server.closeAllConnections();
      await close(server);
      await lib.stop();
    },
  };
  return api;
}

export type TelegramEmulator = Awaited<ReturnType<typeof startTelegramEmulator>>;

/** The text of a button, and its callback data, from a message's keyboard. */
export function buttons(m: BotMessage): InlineButton[] {
  return m.reply_markup?.inline_keyboard.flat() ?? [];
}
