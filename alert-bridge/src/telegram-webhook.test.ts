import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Bridge } from './app.js';
import { parseConfig } from './config.js';
import { KnowledgeBase } from './knowledge-base.js';
import {
  CARDS_DIR,
  paperOut,
  payload,
  postWebhook,
  startBridge,
  testConfigRaw,
  testStorage,
  waitFor,
} from '@tillwatch/testkit/bridge';
import { buttons, startTelegramEmulator, type TelegramEmulator } from '@tillwatch/testkit/telegram';
import {
  TOKEN,
  CHAT,
  ALICE,
  bridgeConfig,
  ticketOf,
  idIn,
  metric,
  storeState,
  press,
  messageAbout,
  current,
} from '@tillwatch/testkit/bridge/telegram';

// Telegram through telegram-test-api (the test kit's emulator): people press the buttons of the bot's
// messages and reply to them, the bridge long-polls getUpdates (or takes the webhook) and acts as the
// named user whose telegram_id pressed.

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
