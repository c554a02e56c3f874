import { connect, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alert,
  api,
  ENGINES,
  paperOut,
  payload,
  PG_URL,
  postWebhook,
  startBridge,
  WEBHOOK_TOKEN,
} from '@tillwatch/testkit/bridge';
import type { TicketJson } from './tickets/index.js';

// Each of these got a 503 on every retry before, which blocks the whole Alertmanager group (the valid
// alerts sent with the bad one included). Now each is stored or refused with a 4xx.
describe.each(ENGINES)('input a retry cannot fix, on %s', (engine) => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  beforeAll(async () => {
    ctx = await startBridge(engine, {
      teams: { hardware: {} },
      priority: { by_class: { 'fiscal.paper_out': 'P2' } },
    });
  });
  afterAll(async () => ctx?.close());
  const ticket = async (id: number) => (await api<TicketJson>(ctx.bridge.url, `/tickets/${id}`)).body;

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'a label value "%s" in incident_class, team and severity is just a name',
    async (v) => {
      const r = await postWebhook(
        ctx.bridge.url,
        payload([
          alert({
            alertname: 'Odd',
            incident_class: v,
            team: v,
            severity: v,
            store: `proto-${v}`,
            till: 't1',
          }),
        ]),
      );
      expect(r.status).toBe(200);
      const t = await ticket((r.body.tickets as number[])[0]!);
      expect(t).toMatchObject({
        incident_class: v,
        team: v,
        severity: 'warning',
        priority: 'P3',
        needs_card: true,
      });
    },
  );

  it('a NUL byte in a label, an annotation or the fingerprint is stored (as U+FFFD), not refused forever', async () => {
    const a = alert(
      { alertname: 'Nul', incident_class: 'fiscal.paper_out', store: 'nul\u0000store', till: 't1' },
      { annotations: { summary: 'paper\u0000out' } },
    );
    const r = await postWebhook(ctx.bridge.url, payload([{ ...a, fingerprint: 'ab\u0000cd' }]));
    expect(r.status).toBe(200);
    const t = await ticket((r.body.tickets as number[])[0]!);
    expect(t.store).toBe('nul\uFFFDstore');
    expect(t.alerts[0]).toMatchObject({
      fingerprint: 'ab\uFFFDcd',
      annotations: { summary: 'paper\uFFFDout' },
    });
  });

  it('a lone surrogate is stored as U+FFFD on both engines alike', async () => {
    const r = await postWebhook(
      ctx.bridge.url,
      payload([
        alert({ alertname: 'Sur', incident_class: 'fiscal.paper_out', store: 'sur\uD800', till: 't1' }),
      ]),
    );
    expect(r.status).toBe(200);
    expect((await ticket((r.body.tickets as number[])[0]!)).store).toBe('sur\uFFFD');
  });

  it.each([
    ['a corrupt gzip body', { 'content-encoding': 'gzip' }, 'not gzip at all', 400, 'invalid_body'],
    ['a corrupt brotli body', { 'content-encoding': 'br' }, 'xx', 400, 'invalid_body'],
    [
      'an unknown charset',
      { 'content-type': 'application/json; charset=klingon' },
      '{}',
      415,
      'unsupported_media_type',
    ],
  ])('%s gets a 4xx, not a 500', async (_n, headers, body, status, code) => {
    const r = await fetch(`${ctx.bridge.url}/webhook/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, ...headers },
      body,
    });
    expect(r.status).toBe(status);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it('a resolved alert whose endsAt is not a date resolves at the time it was seen', async () => {
    const [id] = (await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'ends')]))).body
      .tickets as number[];
    const r = await postWebhook(
      ctx.bridge.url,
      payload([{ ...paperOut('t1', 'ends', { status: 'resolved' }), endsAt: 'yesterday' }]),
    );
    expect(r.status).toBe(200);
    const t = await ticket(id!);
    expect(t.status).toBe('resolved');
    expect(t.alerts[0]!.ends_at).not.toBeNull();
  });
});

describe('a problem the database refuses for good (PostgreSQL)', () => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  let schema: string;
  beforeAll(async () => {
    ctx = await startBridge('postgres');
    schema = (ctx.storage.raw as { schema: string }).schema;
    // A real database-side refusal that no retry fixes: a trigger that rejects one store.
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`create function ${schema}.poison() returns trigger language plpgsql as $$
      begin if new.store = 'poison' then raise exception 'store poison is refused'; end if; return new; end $$`);
    await c.query(
      `create trigger poison before insert on ${schema}.tickets for each row execute function ${schema}.poison()`,
    );
    await c.end();
  });
  afterAll(async () => ctx?.close());

  it('stores the good alerts of the notification, answers 200 naming the refused problem, and counts it', async () => {
    const r = await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'good'), paperOut('t1', 'poison')]));
    expect(r.status).toBe(200);
    expect(r.body.tickets).toHaveLength(1);
    expect(r.body.rejected).toEqual([
      {
        key: 'fiscal.paper_out|chain=c1|region=r1|store=poison|till=t1|device=kkt',
        reason: expect.stringContaining('store poison is refused'),
      },
    ]);
    const stores = (await api<{ tickets: TicketJson[] }>(ctx.bridge.url, '/tickets')).body.tickets.map(
      (t) => t.store,
    );
    expect(stores).toEqual(['good']);
    const text = await (await fetch(`${ctx.bridge.url}/metrics`)).text();
    expect(text).toMatch(/tillwatch_bridge_webhook_alerts_rejected_total 1/);
  });

  it('refuses a notification with nothing storable with 422, which Alertmanager does not retry', async () => {
    const r = await postWebhook(ctx.bridge.url, payload([paperOut('t2', 'poison')]));
    expect(r.status).toBe(422);
    expect(r.body.error).toMatchObject({
      code: 'unprocessable_alerts',
      message: expect.stringContaining('store poison is refused'),
    });
    expect((await fetch(`${ctx.bridge.url}/readyz`)).status).toBe(200);
  });
});

describe('connections', () => {
  it('a client that sends headers too slowly is cut off, and connections beyond the cap are refused', async () => {
    const ctx = await startBridge('sqlite', {
      http: { max_connections: 3, headers_timeout: '1s', request_timeout: '2s', keep_alive_timeout: '1s' },
    });
    try {
      const port = Number(new URL(ctx.bridge.url).port);
      const order: string[] = [];
      // Resolves once connected or closed: the server may drop a connection before the client sees it up.
      const open = (name: string) =>
        new Promise<{ socket: Socket; closed: Promise<void> }>((resolve) => {
          const socket = connect(port, '127.0.0.1');
          const closed = new Promise<void>((r) =>
            socket.once('close', () => {
              order.push(name);
              r();
            }),
          );
          socket.on('error', () => undefined);
          socket.once('connect', () => resolve({ socket, closed }));
          void closed.then(() => resolve({ socket, closed }));
        });
      // Each step is bounded, so a stuck one names itself (and what closed so far) instead of the test's
      // overall timeout: every close here is the bridge's doing within a second or two.
      const within = <T>(what: string, p: Promise<T>) =>
        Promise.race([
          p,
          new Promise<never>((_, reject) =>
            setTimeout(
              () => reject(new Error(`stuck on ${what}; closed so far: ${order.join(', ')}`)),
              15_000,
            ),
          ),
        ]);
      // Slowloris: headers started, never finished; the bridge answers 408 and closes.
      const slow = await within('connecting the slow client', open('slow'));
      let answer = '';
      slow.socket.on('data', (d) => (answer += String(d)));
      slow.socket.write('POST /webhook/alertmanager HTTP/1.1\r\nHost: x\r\n');
      await within('the 408 to the slow client', slow.closed);
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      const held = await within(
        'three silent clients',
        Promise.all([open('held'), open('held'), open('held')]),
      );
      const extra = await within('the client over the cap', open('extra'));
      await within('the client over the cap to be refused', extra.closed);
      // Silent sockets do not keep their place for ever either; the one over the cap went first.
      await within('the silent clients to be cut off', Promise.all(held.map((h) => h.closed)));
      expect(order.slice(0, 2)).toEqual(['slow', 'extra']);
      expect((await fetch(`${ctx.bridge.url}/healthz`)).status).toBe(200);
    } finally {
      await ctx.close();
    }
  });
});
