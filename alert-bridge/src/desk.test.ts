import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deskEventHeaders } from '@tillwatch/config/action-signing';
import {
  api,
  paperOut,
  payload,
  postWebhook,
  startBridge,
  startReceiver,
  waitFor,
  ENGINES,
} from '@tillwatch/testkit/bridge';

// The signed inbound webhook a service desk calls to acknowledge, comment on or resolve a ticket: the
// desk's changes are recorded under its name, sent to every other target and never back to the desk.
const SECRET = 'desk-secret-0123456789abcdef0123456789';

type Detail = {
  status: string;
  events: { type: string; actor: string; data: Record<string, unknown> }[];
};

describe.each(ENGINES)('a service desk acting through its signed webhook on %s', (engine) => {
  let desk: Awaited<ReturnType<typeof startReceiver>>;
  let other: Awaited<ReturnType<typeof startReceiver>>;
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  beforeAll(async () => {
    desk = await startReceiver('out-key');
    other = await startReceiver('other-key');
    ctx = await startBridge(engine, {
      forwarding: {
        poll_interval: '50ms',
        retry_base: '50ms',
        retry_max: '200ms',
        targets: [
          {
            name: 'servicedesk',
            type: 'webhook',
            url: desk.url,
            secret: 'out-key',
            inbound: { secret: SECRET },
          },
          { name: 'other', type: 'webhook', url: other.url, secret: 'other-key' },
        ],
      },
    });
  });
  afterAll(async () => {
    await ctx?.close();
    await desk?.close();
    await other?.close();
  });

  let seq = 0;
  const send = async (
    body: unknown,
    opts: { secret?: string; at?: number; name?: string; headers?: Record<string, string> } = {},
  ) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(`${ctx.bridge.url}/api/v1/desk/${opts.name ?? 'servicedesk'}/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...deskEventHeaders(opts.secret ?? SECRET, text, opts.at ?? Date.now()),
        ...opts.headers,
      },
      body: text,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const detail = async (id: number) => (await api<Detail>(ctx.bridge.url, `/tickets/${id}`)).body;
  const newTicket = async (till: string) => {
    const r = await postWebhook(ctx.bridge.url, payload([paperOut(till, `sd-${engine}`)]));
    return (r.body.tickets as number[])[0]!;
  };
  const eventsFor = (rx: typeof desk, id: number) =>
    rx.got.filter((g) => (g.body.ticket as { id: number }).id === id).map((g) => [g.type, g.body.actor]);

  it('acknowledges, comments and resolves as the desk; others hear it, the desk does not', async () => {
    const id = await newTicket('t1');
    await waitFor(() => eventsFor(desk, id).length === 1, 'the desk got the ticket');

    const ack = await send({ id: `e${++seq}`, ticket: id, action: 'acknowledge', person: 'Petrov' });
    expect(ack).toMatchObject({
      status: 200,
      body: { status: 'applied', ticket: { status: 'acknowledged' } },
    });
    expect(
      (await send({ id: `e${++seq}`, ticket: id, action: 'comment', text: 'engineer sent' })).status,
    ).toBe(200);
    // Resolving while the alert fires needs force, as for a person.
    const refused = await send({ id: `e${++seq}`, ticket: id, action: 'resolve' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'conflict' } });
    const done = await send({ id: `e${++seq}`, ticket: id, action: 'resolve', force: true, text: 'fixed' });
    expect(done).toMatchObject({ status: 200, body: { ticket: { status: 'resolved' } } });

    const d = await detail(id);
    const byDesk = d.events.filter((e) => e.actor === 'servicedesk');
    expect(byDesk.map((e) => e.type)).toEqual(['acknowledged', 'commented', 'resolved']);
    expect(byDesk[0]!.data).toMatchObject({ person: 'Petrov', desk: 'servicedesk' });
    expect(byDesk[2]!.data).toMatchObject({ note: 'fixed', forced: true });

    // The other target hears all three; the desk hears none of them. A person's comment afterwards does reach
    // the desk, and delivery is in order per ticket: had a desk event been queued for it, it would come first.
    await waitFor(
      () => eventsFor(other, id).filter(([, actor]) => actor === 'servicedesk').length === 3,
      "the other target got the desk's three changes",
    );
    await api(ctx.bridge.url, `/tickets/${id}/comments`, { method: 'POST', body: { text: 'thanks' } });
    await waitFor(() => eventsFor(desk, id).length === 2, "the desk got the person's comment");
    expect(eventsFor(desk, id)).toEqual([
      ['ticket.created', 'alertmanager'],
      ['ticket.updated', 'alice'],
    ]);
  });

  it('applies an event id once: a retry or a replay within the window changes nothing', async () => {
    const id = await newTicket('t2');
    const event = { id: 'jira-4711-comment', ticket: id, action: 'comment', text: 'once' };
    expect((await send(event)).body).toMatchObject({ status: 'applied' });
    // The desk retries (signed anew) and an attacker replays the same bytes: both change nothing.
    expect(await send(event)).toEqual({ status: 200, body: { status: 'duplicate' } });
    const text = JSON.stringify(event);
    const headers = deskEventHeaders(SECRET, text);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${ctx.bridge.url}/api/v1/desk/servicedesk/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: text,
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'duplicate' });
    }
    expect((await detail(id)).events.filter((e) => e.type === 'commented')).toHaveLength(1);
  });

  it('refuses forged, stale and unknown senders with 401 and changes nothing', async () => {
    const id = await newTicket('t3');
    const ev = (n: string) => ({ id: n, ticket: id, action: 'acknowledge' });
    const cases: [string, Awaited<ReturnType<typeof send>>][] = [
      ['wrong secret', await send(ev('f1'), { secret: 'another-secret-0123456789abcdef0123' })],
      ['no signature', await send(ev('f2'), { headers: { 'x-tillwatch-signature': '' } })],
      ['signature of another body', await send(ev('f3'), { headers: deskEventHeaders(SECRET, '{}') })],
      ['ten minutes old', await send(ev('f4'), { at: Date.now() - 10 * 60_000 })],
      ['ten minutes ahead', await send(ev('f5'), { at: Date.now() + 10 * 60_000 })],
      ['a desk not configured', await send(ev('f6'), { name: 'nobody' })],
      ['a target that takes no events', await send(ev('f7'), { name: 'other' })],
    ];
    for (const [what, r] of cases)
      expect([what, r.status, r.body.error]).toEqual([what, 401, expect.anything()]);
    const d = await detail(id);
    expect(d.status).toBe('open');
    expect(d.events.map((e) => e.type)).toEqual(['created']);
    const metrics = await (await fetch(`${ctx.bridge.url}/metrics`)).text();
    expect(metrics).toMatch(
      /tillwatch_bridge_desk_events_total\{desk="webhook:servicedesk",result="bad_signature"\} 3/,
    );
    expect(metrics).toMatch(
      /tillwatch_bridge_desk_events_total\{desk="webhook:servicedesk",result="stale"\} 2/,
    );
    expect(metrics).toMatch(/tillwatch_bridge_desk_events_total\{desk="unknown",result="unknown_desk"\} 2/);
  });

  it('answers a malformed body with a 4xx naming the cause, never a 5xx', async () => {
    const id = await newTicket('t4');
    const cases: [unknown, number, string][] = [
      ['not json', 400, 'body is not JSON'],
      ['', 400, 'body is not JSON'],
      [[1, 2], 400, '(body)'],
      [null, 400, '(body)'],
      [{ ticket: id, action: 'comment', text: 'x' }, 400, 'id'],
      [{ id: 'm1', ticket: String(id), action: 'comment', text: 'x' }, 400, 'ticket'],
      [{ id: 'm2', ticket: id, action: 'close' }, 400, 'action'],
      [{ id: 'm3', ticket: id, action: 'comment' }, 400, 'text: is required for a comment'],
      [{ id: 'm4', ticket: id, action: 'acknowledge', force: true }, 400, 'force: applies to resolve only'],
      [{ id: 'm5', ticket: id, action: 'comment', text: 'x', extra: 1 }, 400, 'unknown field(s) extra'],
      [{ id: 'm6', ticket: id, action: 'comment', text: 'x'.repeat(10_001) }, 400, 'text'],
      [{ id: 'm7', ticket: 999_999_999, action: 'comment', text: 'x' }, 404, 'does not exist'],
      [{ id: 'm8', ticket: id, action: 'comment', text: 'x'.repeat(70_000) }, 413, 'body larger than'],
      [{ id: '\u0000\ud800', ticket: id, action: 'comment', text: '\u0000 \ud83d' }, 200, 'applied'],
    ];
    for (const [body, status, message] of cases) {
      const r = await send(body);
      expect([body, r.status]).toEqual([body, status]);
      expect(JSON.stringify(r.body)).toContain(message);
    }
    // Only the last (odd but well-formed) comment was stored.
    expect((await detail(id)).events.map((e) => e.type)).toEqual(['created', 'commented']);
  });
});
