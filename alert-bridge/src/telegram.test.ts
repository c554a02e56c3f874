import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ENGINES,
  WRITE_TOKEN,
  alert,
  paperOut,
  payload,
  postWebhook,
  startBridge,
  waitFor,
  type Engine,
} from '@tillwatch/testkit/bridge';
import { buttons, startTelegramEmulator, type TelegramEmulator } from '@tillwatch/testkit/telegram';
import {
  TOKEN,
  CHAT,
  ALICE,
  VICTOR,
  OLGA,
  STRANGER,
  bridgeConfig,
  ticketOf,
  idIn,
  metric,
  storeState,
  press,
  pressData,
  messageAbout,
  current,
} from '@tillwatch/testkit/bridge/telegram';

// Telegram through telegram-test-api (the test kit's emulator): people press the buttons of the bot's
// messages and reply to them, the bridge long-polls getUpdates (or takes the webhook) and acts as the
// named user whose telegram_id pressed.

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
