import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from './forward/template.js';
import { startReceiver } from '@tillwatch/testkit/bridge';
import {
  api,
  paperOut,
  payload,
  postWebhook,
  startBridge,
  waitFor,
  ENGINES,
} from '@tillwatch/testkit/bridge';

describe.each(ENGINES)('forwarding to service desks on %s', (engine) => {
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let shaped: Awaited<ReturnType<typeof startReceiver>>;
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  beforeAll(async () => {
    rx = await startReceiver('hmac-key');
    shaped = await startReceiver('other-key');
    ctx = await startBridge(engine, {
      forwarding: {
        poll_interval: '50ms',
        retry_base: '50ms',
        retry_max: '200ms',
        targets: [
          { name: 'desk', type: 'webhook', url: rx.url, secret: 'hmac-key' },
          {
            name: 'shaped',
            type: 'webhook',
            url: shaped.url,
            secret: 'other-key',
            events: ['ticket.created', 'ticket.resolved'],
            template: {
              summary: '[{{ticket.priority}}] {{ticket.title}} @ {{ticket.store}}/{{ticket.till}}',
              ref: '{{ticket.id}}',
              kind: '{{type}}',
            },
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await ctx?.close();
    await rx?.close();
    await shaped?.close();
  });

  it('delivers signed events in order per ticket, retrying through failures, once each', async () => {
    rx.state.failNext = 3;
    const r = await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'fw')]));
    const id = (r.body.tickets as number[])[0]!;
    await api(ctx.bridge.url, `/tickets/${id}/comments`, {
      method: 'POST',
      body: { text: 'calling the store' },
    });
    await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'fw', { status: 'resolved' })]));
    const mine = () => rx.got.filter((g) => (g.body.ticket as { id: number }).id === id);
    await waitFor(() => mine().length >= 3, 'three events');
    expect(mine().map((g) => g.type)).toEqual(['ticket.created', 'ticket.updated', 'ticket.resolved']);
    expect(new Set(mine().map((g) => g.id)).size).toBe(3);
    expect(mine()[0]!.body).toMatchObject({
      type: 'ticket.created',
      ticket: { id, store: 'fw', incident_class: 'fiscal.paper_out' },
    });
    expect(rx.badSignatures).toEqual([]);
    const text = await (await fetch(`${ctx.bridge.url}/metrics`)).text();
    expect(text).toMatch(
      /tillwatch_bridge_deliveries_total\{kind="webhook",target="webhook:desk",result="retry"\} [1-9]/,
    );
  });

  it('shapes the payload per target with its template and event filter', async () => {
    const r = await postWebhook(ctx.bridge.url, payload([paperOut('t2', 'fw')]));
    const id = (r.body.tickets as number[])[0]!;
    const got = await waitFor(() => shaped.got.find((g) => g.body.ref === id), 'shaped event');
    expect(got.body).toEqual({ summary: '[P2] Receipt paper out @ fw/t2', ref: id, kind: 'ticket.created' });
  });
});

describe('payload templates', () => {
  it('keeps types for whole placeholders and interpolates inside strings', () => {
    const ctx = { ticket: { id: 7, tills: ['t1', 't2'], store: 's' } };
    expect(
      renderTemplate(
        {
          a: '{{ticket.id}}',
          b: 'store {{ticket.store}} #{{ticket.id}}',
          c: ['{{ticket.tills}}'],
          d: '{{ticket.nope}}',
          e: 3,
        },
        ctx,
      ),
    ).toEqual({
      a: 7,
      b: 'store s #7',
      c: [['t1', 't2']],
      d: null,
      e: 3,
    });
  });
});
