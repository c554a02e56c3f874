import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Bridge } from './app.js';
import { parseConfig } from './config.js';
import { KnowledgeBase } from './knowledge-base.js';
import {
  CARDS_DIR,
  ENGINES,
  WRITE_TOKEN,
  alert,
  api,
  paperOut,
  payload,
  postWebhook,
  startBridge,
  testConfigRaw,
  testStorage,
  waitFor,
  type Engine,
} from '@tillwatch/testkit/bridge';
import {
  buttons,
  startTelegramEmulator,
  type BotMessage,
  type TelegramEmulator,
  type TelegramUser,
} from '@tillwatch/testkit/telegram';
import type { TicketJson } from './tickets/index.js';

// Telegram through telegram-test-api (the test kit's emulator): people press the buttons of the bot's
// messages and reply to them, the bridge long-polls getUpdates (or takes the webhook) and acts as the
// named user whose telegram_id pressed.

const TOKEN = '555:tillwatch-test-bot';
const CALLBACK_KEY = 'callback-key-for-tests-0123456789abcdef';
const CHAT = '-100500';
const ALICE: TelegramUser = { id: 1001, first_name: 'Alice' };
const VICTOR: TelegramUser = { id: 1002, first_name: 'Victor' };
const OLGA: TelegramUser = { id: 1003, first_name: 'Olga' };
const STRANGER: TelegramUser = { id: 999_999, first_name: 'Mallory' };

const USERS = [
  { name: 'alice', role: 'operator', telegram_id: ALICE.id },
  { name: 'victor', role: 'viewer', telegram_id: VICTOR.id },
  { name: 'olga', role: 'operator', chains: ['c2'], telegram_id: OLGA.id },
];

function bridgeConfig(tg: TelegramEmulator, telegram: Record<string, unknown> = {}) {
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

type Detail = TicketJson & { events: { type: string; actor: string; data: Record<string, unknown> }[] };
const ticketOf = async (url: string, id: number) => (await api<Detail>(url, `/tickets/${id}`)).body;

/** The ticket's id from the link at the end of its block. */
const idIn = (m: BotMessage, place: string) => {
  const block = m.text.split('\n\n').find((b) => b.includes(place));
  const id = block && /#(\d+)<\/a>/.exec(block)?.[1];
  if (!id) throw new Error(`no ticket for ${place} in: ${m.text}`);
  return Number(id);
};

async function metric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/** What a refused action must leave as it was: the ticket, its history, and the handled-updates log. */
async function storeState(ctx: Awaited<ReturnType<typeof startBridge>>, id: number) {
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
async function press(tg: TelegramEmulator, who: TelegramUser, m: BotMessage, label: string) {
  const b = buttons(m).find((x) => x.text === label);
  if (!b?.callback_data) throw new Error(`no button "${label}" on: ${JSON.stringify(m.reply_markup)}`);
  return pressData(tg, who, m, b.callback_data);
}

async function pressData(tg: TelegramEmulator, who: TelegramUser, m: BotMessage, data: string) {
  const n = tg.answers.length;
  await tg.press(who, m, data);
  return waitFor(() => tg.answers[n], `the answer to ${who.first_name}'s press`);
}

/** The bot's message about a place, once it is there with its buttons. */
const messageAbout = (tg: TelegramEmulator, place: string) =>
  waitFor(
    () => tg.messages(CHAT).find((m) => m.text.includes(place) && m.reply_markup),
    `a message about ${place}`,
  );

const current = (tg: TelegramEmulator, m: BotMessage) =>
  tg.messages().find((x) => x.message_id === m.message_id)!;

describe.each(ENGINES)('Telegram buttons and replies on %s', (engine: Engine) => {
  let tg: TelegramEmulator;
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  beforeAll(async () => {
    tg = await startTelegramEmulator(TOKEN);
    ctx = await startBridge(engine, bridgeConfig(tg));
  });
  afterAll(async () => {
    await ctx?.close();
    await tg?.close();
  });

  it('alice takes the ticket and resolves it with the buttons: her name in the history, one message edited in place', async () => {
    await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'bt')]));
    const m = await messageAbout(tg, 'bt / t1');
    const id = idIn(m, 'bt / t1');
    expect(buttons(m).map((b) => b.text)).toEqual(['Take it', 'Resolved']);
    for (const b of buttons(m)) expect(Buffer.byteLength(b.callback_data!)).toBeLessThanOrEqual(64);

    const took = await press(tg, ALICE, m, 'Take it');
    expect(took.text).toBe(`Ticket #${id} is yours now.`);
    let t = await ticketOf(ctx.bridge.url, id);
    expect(t).toMatchObject({ status: 'acknowledged', assignee: 'alice' });
    expect(t.events.at(-1)).toMatchObject({ type: 'acknowledged', actor: 'alice' });
    const taken = await waitFor(() => {
      const now = current(tg, m);
      return now.edits >= 1 && buttons(now).length === 1 ? now : undefined;
    }, 'the message edited after the press');
    expect(buttons(taken).map((b) => b.text)).toEqual(['Resolved']);
    expect(taken.text).toContain(`👤 #${id}: taken by alice`);

    // The till's paper is still out: like the page, the bridge says why and offers the forced resolve.
    const refused = await press(tg, ALICE, taken, 'Resolved');
    expect(refused).toMatchObject({ show_alert: true });
    expect(refused.text).toContain(`Alerts of ticket #${id} still fire: TillPaperOut`);
    expect((await ticketOf(ctx.bridge.url, id)).status).toBe('acknowledged');
    const offered = await waitFor(() => {
      const now = current(tg, m);
      return buttons(now)[0]?.text === 'Resolve anyway' ? now : undefined;
    }, 'the forced resolve offered');

    const done = await press(tg, ALICE, offered, 'Resolve anyway');
    expect(done.text).toBe(`Ticket #${id} resolved.`);
    t = await ticketOf(ctx.bridge.url, id);
    expect(t.status).toBe('resolved');
    expect(t.events.at(-1)).toMatchObject({
      type: 'resolved',
      actor: 'alice',
      data: { by: 'human', forced: true },
    });
    const resolved = await waitFor(() => {
      const now = current(tg, m);
      return now.text.includes('Ticket resolved') && buttons(now).length === 0 ? now : undefined;
    }, 'the message showing the ticket resolved, without buttons');
    expect(resolved.text).toContain(`✅ #${id}: resolved by alice`);
    // Every change went into the one message.
    expect(tg.messages(CHAT).filter((x) => x.text.includes('bt / t1'))).toHaveLength(1);
    expect(await metric(ctx.bridge.url, 'tillwatch_bridge_telegram_callbacks_total{result="done"}')).toBe(2);
    expect(await metric(ctx.bridge.url, 'tillwatch_bridge_telegram_callbacks_total{result="conflict"}')).toBe(
      1,
    );
  });

  it('an unknown Telegram user, a viewer and an operator of another chain change nothing and are told why', async () => {
    await postWebhook(ctx.bridge.url, payload([paperOut('t2', 'rf')]));
    const m = await messageAbout(tg, 'rf / t2');
    const id = idIn(m, 'rf / t2');
    const before = await storeState(ctx, id);

    const stranger = await press(tg, STRANGER, m, 'Take it');
    expect(stranger).toMatchObject({ show_alert: true });
    expect(stranger.text).toContain(`(id ${STRANGER.id}) is not linked to a TillWatch user`);
    const viewer = await press(tg, VICTOR, m, 'Take it');
    expect(viewer.text).toBe('victor: your role can only view tickets; an operator can act on them.');
    const other = await press(tg, OLGA, m, 'Resolved');
    expect(other.text).toBe(`Ticket #${id} is not in your chains.`);

    expect(await storeState(ctx, id)).toEqual(before);
    expect(current(tg, m).edits).toBe(0);
    const tg_ = 'tillwatch_bridge_telegram_callbacks_total';
    expect(await metric(ctx.bridge.url, `${tg_}{result="refused_unknown_user"}`)).toBe(1);
    expect(await metric(ctx.bridge.url, `${tg_}{result="refused_forbidden"}`)).toBe(2);
  });

  it('forged callback data changes nothing: the press is answered "not valid"', async () => {
    await postWebhook(ctx.bridge.url, payload([paperOut('t3', 'fg')]));
    const m = await messageAbout(tg, 'fg / t3');
    const id = idIn(m, 'fg / t3');
    const genuine = buttons(m)[0]!.callback_data!;
    const sig = genuine.split(':')[2]!;
    const before = await storeState(ctx, id);
    const forged = [
      `a:${id}:${'A'.repeat(43)}`, // a made-up signature
      `r:${id}:${sig}`, // the take button's signature on the resolve action
      `f:${id}:${sig}`,
      `a:${id + 1}:${sig}`, // another ticket
      `a:0${id}:${sig}`,
      `a:${id}:${sig}x`,
      `<script>alert(1)</script>`,
      '',
      'a:'.padEnd(200, '9'),
    ];
    for (const data of forged) {
      const a = await pressData(tg, ALICE, m, data);
      expect(a.text, data).toBe('This button is not valid.');
    }
    expect(await storeState(ctx, id)).toEqual(before);
    expect(await metric(ctx.bridge.url, 'tillwatch_bridge_telegram_callbacks_total{result="invalid"}')).toBe(
      forged.length,
    );
  });

  it('a reply to a ticket message is a comment by the named user; a stranger gets an answer and no comment', async () => {
    await postWebhook(ctx.bridge.url, payload([paperOut('t4', 'rp')]));
    const m = await messageAbout(tg, 'rp / t4');
    const id = idIn(m, 'rp / t4');
    const before = await storeState(ctx, id);
    await tg.reply(STRANGER, m, 'I fixed it, trust me');
    const refusal = await waitFor(
      () => tg.messages(CHAT).find((x) => x.reply_to !== undefined && x.text.includes(`(id ${STRANGER.id})`)),
      'the answer to the stranger',
    );
    expect(refusal.text).toContain('is not linked to a TillWatch user');
    expect(await storeState(ctx, id)).toEqual(before);

    const hostile = 'Loaded a new roll <img src=x onerror=alert(1)> & checked';
    await tg.reply(ALICE, m, hostile);
    await waitFor(
      () => tg.messages(CHAT).find((x) => x.text === `Comment added to ticket #${id}.`),
      "the bot's confirmation",
    );
    const t = await ticketOf(ctx.bridge.url, id);
    expect(t.events.at(-1)).toMatchObject({ type: 'commented', actor: 'alice', data: { text: hostile } });
    // On the ticket page the comment is text, not markup.
    const page = await fetch(`${ctx.bridge.url}/ui/tickets/${id}`, {
      headers: { authorization: `Basic ${Buffer.from(`x:${WRITE_TOKEN}`).toString('base64')}` },
    });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('Loaded a new roll &lt;img src=x onerror=alert(1)&gt; &amp; checked');
    expect(html).not.toContain('<img src=x');
  });

  it('a burst is one message with buttons per ticket; a press or a resolve edits it, a reply names its ticket', async () => {
    // Held while they arrive, so the three are pending together however loaded the machine is.
    await ctx.bridge.dispatcher.stop();
    for (const till of ['b1', 'b2', 'b3'])
      await postWebhook(ctx.bridge.url, payload([paperOut(till, 'burst')]));
    ctx.bridge.dispatcher.start();
    const m = await waitFor(
      () => tg.messages(CHAT).find((x) => x.text.includes('burst / b1') && x.text.includes('burst / b3')),
      'one message for the burst',
    );
    const [id1, id2, id3] = ['b1', 'b2', 'b3'].map((t) => idIn(m, `burst / ${t}`)) as [
      number,
      number,
      number,
    ];
    expect(m.reply_markup!.inline_keyboard.map((row) => row.map((b) => b.text))).toEqual(
      [id1, id2, id3].map((id) => [`#${id} · Take it`, `#${id} · Resolved`]),
    );

    await press(tg, ALICE, m, `#${id2} · Take it`);
    expect((await ticketOf(ctx.bridge.url, id2)).status).toBe('acknowledged');
    expect((await ticketOf(ctx.bridge.url, id1)).status).toBe('open');
    const taken = await waitFor(() => {
      const now = current(tg, m);
      return now.text.includes(`👤 #${id2}: taken by alice`) ? now : undefined;
    }, 'the burst message edited');
    expect(buttons(taken).map((b) => b.text)).toEqual([
      `#${id1} · Take it`,
      `#${id1} · Resolved`,
      `#${id2} · Resolved`,
      `#${id3} · Take it`,
      `#${id3} · Resolved`,
    ]);

    // b3's paper is back: its ticket resolves by itself and the same message says so.
    const sent = tg.messages(CHAT).length;
    await postWebhook(ctx.bridge.url, payload([paperOut('b3', 'burst', { status: 'resolved' })]));
    const after = await waitFor(() => {
      const now = current(tg, m);
      return buttons(now).every((b) => !b.text.startsWith(`#${id3}`)) ? now : undefined;
    }, 'the resolve of b3 edited into the burst message');
    expect(after.text).toContain('Ticket resolved');
    expect(after.text).toContain('self-resolved');
    expect(tg.messages(CHAT)).toHaveLength(sent);

    await tg.reply(ALICE, m, 'which one?');
    const ask = await waitFor(
      () => tg.messages(CHAT).find((x) => x.text.startsWith('This message lists several tickets')),
      'the question which ticket',
    );
    expect(ask.text).toContain(`#${id1}, #${id2}, #${id3}`);
    await tg.reply(ALICE, m, `#${id1}: the printer head is dirty`);
    await waitFor(
      () => tg.messages(CHAT).find((x) => x.text === `Comment added to ticket #${id1}.`),
      'the comment on the named ticket',
    );
    expect((await ticketOf(ctx.bridge.url, id1)).events.at(-1)).toMatchObject({
      type: 'commented',
      actor: 'alice',
      data: { text: 'the printer head is dirty' },
    });
  });

  it('a message Telegram no longer lets the bot edit is replaced by a new one', async () => {
    await postWebhook(ctx.bridge.url, payload([paperOut('t5', 'old')]));
    const m = await messageAbout(tg, 'old / t5');
    tg.state.uneditable.add(m.message_id);
    await postWebhook(ctx.bridge.url, payload([paperOut('t5', 'old', { status: 'resolved' })]));
    const fresh = await waitFor(
      () =>
        tg
          .messages(CHAT)
          .find(
            (x) =>
              x.message_id !== m.message_id &&
              x.text.includes('old / t5') &&
              x.text.includes('Ticket resolved'),
          ),
      'a new message for the resolve',
    );
    expect(fresh.text).toContain('self-resolved');
    expect(current(tg, m).edits).toBe(0);
    expect(await metric(ctx.bridge.url, 'tillwatch_bridge_telegram_edits_total{result="resent"}')).toBe(1);
  });

  it('hostile labels are escaped in the message and the keyboard carries none of them', async () => {
    const evil = '<script>alert(1)</script>';
    await postWebhook(
      ctx.bridge.url,
      payload([
        alert(
          {
            alertname: 'TillPaperOut',
            incident_class: 'fiscal.paper_out',
            store: `x${evil}`,
            till: 'tx',
            team: 'hardware',
          },
          { annotations: { summary: `<b onmouseover="alert(1)">hi</b>` } },
        ),
      ]),
    );
    // The emulator refuses HTML outside Telegram's tags, so a message that arrives is escaped.
    const m = await messageAbout(tg, '/ tx');
    expect(m.text).toContain('x&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(m.text).not.toContain('<script');
    for (const b of buttons(m)) expect(b.text).not.toContain('<');
  });
});

describe('the webhook instead of polling', () => {
  const SECRET = 'webhook-secret-0123456789';
  let tg: TelegramEmulator;
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  let hook: string;
  beforeAll(async () => {
    tg = await startTelegramEmulator(TOKEN);
    ctx = await startBridge('sqlite', {
      ...bridgeConfig(tg, { updates: 'webhook', webhook_secret: SECRET }),
    });
    hook = `${ctx.bridge.url}/telegram/webhook`;
    // The bridge registers <public_url>/telegram/webhook with its secret; public_url is the default
    // port, where this test's bridge does not listen, so the test points Telegram at it afterwards.
    expect(await waitFor(() => tg.webhook(), 'setWebhook from the bridge')).toEqual({
      url: 'http://127.0.0.1:9836/telegram/webhook',
      secret: SECRET,
    });
    await fetch(`${tg.url}/bot${TOKEN}/setWebhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: hook, secret_token: SECRET }),
    });
  });
  afterAll(async () => {
    await ctx?.close();
    await tg?.close();
  });

  const post = (body: unknown, secret?: string) =>
    fetch(hook, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(secret !== undefined ? { 'x-telegram-bot-api-secret-token': secret } : {}),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('Telegram posts a press with the secret header: the ticket is taken by the named user', async () => {
    await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'wh')]));
    const m = await messageAbout(tg, 'wh / t1');
    const id = idIn(m, 'wh / t1');
    const a = await press(tg, ALICE, m, 'Take it');
    expect(a.text).toBe(`Ticket #${id} is yours now.`);
    expect((await ticketOf(ctx.bridge.url, id)).assignee).toBe('alice');
    // The bridge answers Telegram's post once it has acted, so the relay records it just after the press.
    expect((await waitFor(() => tg.relayed.at(-1), 'the webhook call recorded')).status).toBe(200);
  });

  it('refuses requests without the secret (401), malformed bodies (400); a replayed update acts once', async () => {
    await postWebhook(ctx.bridge.url, payload([paperOut('t2', 'wh')]));
    const m = await messageAbout(tg, 'wh / t2');
    const id = idIn(m, 'wh / t2');
    const take = buttons(m)[0]!.callback_data!;
    const update = (qid: string) => ({
      update_id: 900_000 + Number(qid),
      callback_query: {
        id: qid,
        from: { id: ALICE.id, is_bot: false, first_name: 'Alice' },
        message: { message_id: m.message_id, chat: { id: Number(CHAT) } },
        data: take,
      },
    });
    const ctxState = () => storeState(ctx, id);
    const before = await ctxState();
    const noSecret = await post(update('1'));
    expect(noSecret.status).toBe(401);
    expect(((await noSecret.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await post(update('1'), 'wrong-secret-0123456789')).status).toBe(401);
    expect((await post('{"update_id": 1,', SECRET)).status).toBe(400);
    const notAnUpdate = await post({ callback_query: { data: take } }, SECRET);
    expect(notAnUpdate.status).toBe(400);
    expect(((await notAnUpdate.json()) as { error: { message: string } }).error.message).toContain(
      'not a Telegram update: update_id',
    );
    expect(await ctxState()).toEqual(before);

    // The same update twice (Telegram retrying, or someone replaying it with the secret): one action.
    expect((await post(update('77'), SECRET)).status).toBe(200);
    expect((await post(update('77'), SECRET)).status).toBe(200);
    const t = await ticketOf(ctx.bridge.url, id);
    expect(t.events.filter((e) => e.type === 'acknowledged')).toHaveLength(1);
    expect(
      await metric(ctx.bridge.url, 'tillwatch_bridge_telegram_callbacks_total{result="duplicate"}'),
    ).toBe(1);
  });
});

describe('two replicas polling one bot, on one PostgreSQL', () => {
  it('poll one at a time (Telegram never sees two getUpdates), act once per press, and the second takes over when the first stops', async () => {
    const tg = await startTelegramEmulator(TOKEN);
    const storage = testStorage('postgres');
    const config = parseConfig(testConfigRaw(storage.raw, bridgeConfig(tg, { poll_timeout: '1s' })));
    const running: Bridge[] = [];
    const start = async () => {
      const b = await createApp(config, {
        logger: pino({ level: 'silent' }),
        kb: KnowledgeBase.load(CARDS_DIR),
      });
      await b.start('127.0.0.1:0');
      running.push(b);
      return b;
    };
    try {
      const first = await start();
      await waitFor(() => tg.polls.calls >= 1, 'the first replica polling');
      const second = await start();
      // Several rounds of long polls with both replicas up.
      const calls = tg.polls.calls;
      await waitFor(() => tg.polls.calls >= calls + 3, 'more polls');
      await postWebhook(second.url, payload([paperOut('t1', 'ha')]));
      const m = await messageAbout(tg, 'ha / t1');
      const id = idIn(m, 'ha / t1');
      await press(tg, ALICE, m, 'Take it');
      const t = await ticketOf(second.url, id);
      expect(t.events.filter((e) => e.type === 'acknowledged')).toHaveLength(1);

      await first.stop();
      running.splice(running.indexOf(first), 1);
      const offered = await waitFor(() => {
        const now = current(tg, m);
        return buttons(now)[0]?.text === 'Resolved' ? now : undefined;
      }, 'the message after the press');
      const refused = await press(tg, ALICE, offered, 'Resolved');
      expect(refused.text).toContain('still fire');
      expect(tg.polls.conflicts).toBe(0);
    } finally {
      for (const b of running) await b.stop();
      await storage.cleanup();
      await tg.close();
    }
  });
});
