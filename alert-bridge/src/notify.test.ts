import type { AddressInfo, Server as NetServer } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelegramEmulator } from '@tillwatch/testkit/telegram';
import {
  ENGINES,
  WRITE_TOKEN,
  alert,
  paperOut,
  payload,
  postWebhook,
  startBridge,
  waitFor,
} from '@tillwatch/testkit/bridge';

interface Mail {
  from: string;
  to: string[];
  data: string;
}

async function startSmtp() {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, cb) {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString('utf8')));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = ((server as unknown as { server: NetServer }).server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((r) => server.close(() => r())) };
}

// Just enough MIME decoding (encoded-word subjects, quoted-printable bodies) to read what nodemailer sent.
function decodeMime(s: string): string {
  return s
    .replace(/=\?UTF-8\?Q\?(.*?)\?=/gi, (_m, q: string) => qp(q.replace(/_/g, ' ')))
    .replace(/=\?UTF-8\?B\?(.*?)\?=/gi, (_m, b: string) => Buffer.from(b, 'base64').toString('utf8'))
    .replace(/\r?\n\s+/g, ' ')
    .split(/\r?\n/)
    .map((l) => qp(l))
    .join('\n')
    .replace(/=\n/g, '');
}

function qp(s: string): string {
  return Buffer.from(
    s.replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
}

describe.each(ENGINES)('notifications on %s', (engine) => {
  let tg: Awaited<ReturnType<typeof startTelegramEmulator>>;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  beforeAll(async () => {
    tg = await startTelegramEmulator('123:ABC');
    smtp = await startSmtp();
    ctx = await startBridge(engine, {
      locale: 'en',
      public_url: 'http://bridge.example',
      telegram: { bot_token: '123:ABC', base_url: tg.url },
      email: {
        from: 'tillwatch@example.com',
        smtp: { host: '127.0.0.1', port: smtp.port, ignore_tls: true },
      },
      teams: {
        hardware: { telegram: [{ chat_id: -100200 }], email: [{ to: ['hw@example.com'] }] },
        network: { telegram: [{ chat_id: -100300 }] },
      },
      notifications: { batch_wait: '200ms', min_interval: '300ms', max_items: 5 },
      forwarding: { poll_interval: '50ms', retry_base: '100ms' },
    });
  });
  afterAll(async () => {
    await ctx?.close();
    await tg?.close();
    await smtp?.close();
  });

  it('sends a concise HTML message to the team chat and an e-mail; the resolve edits the message and mails again', async () => {
    await postWebhook(ctx.bridge.url, payload([paperOut('t7', 'n1')]));
    const msg = await waitFor(
      () => tg.messages().find((m) => m.chat_id === '-100200' && m.text.includes('t7')),
      'telegram message',
    );
    expect(msg.parse_mode).toBe('HTML');
    expect(msg.text).toContain('<b>New ticket: [P2] Receipt paper out</b>');
    expect(msg.text).toContain('📍 n1 / t7 / kkt');
    // The store's local time with its zone named, never UTC with milliseconds.
    expect(msg.text).toMatch(/⏱ since \d\d:\d\d \(Moscow, UTC\+3\)/);
    expect(msg.text.startsWith('🟠')).toBe(true); // a P2 is orange, not red
    expect(msg.text).toContain('1. Ask the cashier to load a new roll');
    expect(msg.text).toMatch(/<a href="http:\/\/bridge\.example\/ui\/tickets\/\d+">#\d+<\/a>/);
    const mail = await waitFor(() => smtp.mails.find((m) => m.data.includes('t7')), 'e-mail');
    expect(mail.to).toEqual(['hw@example.com']);
    const decoded = decodeMime(mail.data);
    expect(decoded).toContain('[TillWatch P2] New ticket: Receipt paper out');
    expect(decoded).toContain('1. Ask the cashier to load a new roll');

    await postWebhook(ctx.bridge.url, payload([paperOut('t7', 'n1', { status: 'resolved' })]));
    const done = await waitFor(
      () => tg.messages().find((m) => m.text.includes('Ticket resolved') && m.text.includes('t7')),
      'resolved message',
    );
    expect(done.text).toContain('self-resolved');
    // The resolve edits the ticket's message in place instead of sending another one.
    expect(done.message_id).toBe(msg.message_id);
    expect(done.edits).toBe(1);
    expect(tg.messages().filter((m) => m.text.includes('n1 / t7'))).toHaveLength(1);
  });

  it('batches a chain-wide outage into a few messages instead of flooding the chat', async () => {
    const before = tg.messages().filter((m) => m.chat_id === '-100300').length;
    const stores = Array.from({ length: 40 }, (_, i) => `chain-${i}`);
    // Alertmanager sends one notification per store group at about the same time; holding the
    // dispatcher while they arrive makes "all pending at once" deterministic on a loaded machine.
    await ctx.bridge.dispatcher.stop();
    await Promise.all(
      stores.map((s) =>
        postWebhook(
          ctx.bridge.url,
          payload([
            alert({
              alertname: 'StoreDown',
              incident_class: 'network.store_offline',
              store: s,
              severity: 'critical',
            }),
          ]),
        ),
      ),
    );
    ctx.bridge.dispatcher.start();
    await waitFor(async () => {
      const pending = await ctx.bridge.store.db
        .selectFrom('outbox')
        .select('id')
        .where('status', '=', 'pending')
        .execute();
      return pending.length === 0;
    }, 'outbox drained');
    const sent = tg
      .messages()
      .filter((m) => m.chat_id === '-100300')
      .slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text.match(/New ticket/g)).toHaveLength(5);
    expect(sent[0]!.text).toContain('and 35 more tickets');
  });

  it('honours Telegram flood control (429 retry_after) and still delivers', async () => {
    tg.state.tooMany = 1;
    await postWebhook(ctx.bridge.url, payload([paperOut('t8', 'n2')]));
    await waitFor(() => tg.messages().find((m) => m.text.includes('n2 / t8')), 'message after 429');
    const text = await (await fetch(`${ctx.bridge.url}/metrics`)).text();
    // Metrics name the team's chat, never the chat id or the mailbox (/metrics needs no login).
    expect(text).toMatch(
      /tillwatch_bridge_deliveries_total\{kind="telegram",target="telegram:hardware",result="retry"\} 1/,
    );
    expect(text).not.toMatch(/-100200|hw@example\.com/);
  });
});

describe('notification rate limit', () => {
  it('holds messages to a chat for min_interval, and what arrived meanwhile goes out as one message', async () => {
    const tg = await startTelegramEmulator('9:Z');
    const ctx = await startBridge('sqlite', {
      telegram: { bot_token: '9:Z', base_url: tg.url },
      teams: { hardware: { telegram: [{ chat_id: 42 }] } },
      notifications: { batch_wait: '100ms', min_interval: '3s', max_items: 10 },
      forwarding: { poll_interval: '50ms' },
    });
    try {
      await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'rl')]));
      await waitFor(() => tg.messages().length === 1, 'first message');
      await postWebhook(ctx.bridge.url, payload([paperOut('t2', 'rl')]));
      await postWebhook(ctx.bridge.url, payload([paperOut('t3', 'rl')]));
      await waitFor(() => tg.messages().length === 2, 'second message');
      expect(tg.messages()[1]!.text).toContain('rl / t2');
      expect(tg.messages()[1]!.text).toContain('rl / t3');
    } finally {
      await ctx.close();
      await tg.close();
    }
  });
});

describe('the link in a message', () => {
  it('is signed, read-only and expiring: it opens the ticket without login until links.ttl has passed', async () => {
    const tg = await startTelegramEmulator('7:L');
    const smtp = await startSmtp();
    // The dispatcher's batching runs on the same clock, so it keeps ticking; the test jumps it ahead.
    let skew = 0;
    const ctx = await startBridge(
      'sqlite',
      {
        public_url: 'http://bridge.example',
        auth: { links: { key: 'link-key-for-tests-0123456789abcdef', ttl: '2h' } },
        telegram: { bot_token: '7:L', base_url: tg.url },
        email: {
          from: 'tillwatch@example.com',
          smtp: { host: '127.0.0.1', port: smtp.port, ignore_tls: true },
        },
        teams: { hardware: { telegram: [{ chat_id: 5 }], email: [{ to: ['hw@example.com'] }] } },
        notifications: { batch_wait: '100ms', min_interval: '100ms' },
        forwarding: { poll_interval: '50ms' },
      },
      { now: () => Date.now() + skew },
    );
    try {
      await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'lk')]));
      const msg = await waitFor(
        () => tg.messages().find((m) => m.text.includes('lk / t1')),
        'telegram message',
      );
      const link = /<a href="(http:\/\/bridge\.example\/ui\/link\/\d+\?exp=\d+&amp;sig=[0-9a-f]{64})">/.exec(
        msg.text,
      );
      expect(link, msg.text).not.toBeNull();
      const mail = decodeMime(
        (await waitFor(() => smtp.mails.find((m) => m.data.includes('lk')), 'e-mail')).data,
      );
      expect(mail).toMatch(/http:\/\/bridge\.example\/ui\/link\/\d+\?exp=\d+&sig=[0-9a-f]{64}/);
      // No API token travels in a message.
      for (const text of [msg.text, mail]) expect(text).not.toContain(WRITE_TOKEN);
      const url = new URL(link![1]!.replace(/&amp;/g, '&'));
      const open = () => fetch(`${ctx.bridge.url}${url.pathname}${url.search}`, { redirect: 'manual' });
      const page = await open();
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Receipt paper out');
      skew += 2 * 3_600_000 + 1000;
      const late = await open();
      expect(late.status).toBe(410);
      expect(await late.text()).toContain('This link has expired');
    } finally {
      await ctx.close();
      await tg.close();
      await smtp.close();
    }
  });
});
