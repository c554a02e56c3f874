// Property-based tests (issue 23): invariants of the ticket key and the webhook on a real bridge, checked
// on generated inputs (testdata/arbitraries.ts: unicode with astral characters, lone surrogates, NUL,
// HTML specials, the key's separators, long values, many labels). The renderers' properties are in
// properties-render.test.ts. A failure prints the seed and the shrunk counterexample, which then belongs
// in the explicit examples below.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  ENGINES,
  paperOut,
  payload,
  postWebhook,
  READ_TOKEN,
  startBridge,
  type Engine,
} from '@tillwatch/testkit/bridge';
import { storable } from './alertmanager.js';
import { parseConfig } from './config.js';
import { escapeKeyPart, identify, PLACE_LABELS } from './identity.js';
import type { TicketJson } from './tickets/index.js';
import { anyText, labelSet } from './testdata/arbitraries.js';

// ---------------------------------------------------------------------------------------------------------
// Ticket identity

const tickets = parseConfig({ webhook: { bearer_token: 'x' } }).tickets;
/** A place value, often holding the key's own separators. */
const placeValue = fc.oneof(
  anyText(12).filter((s) => s.length > 0),
  fc.constantFrom('a', 'b', 'a|till=b', 'a=b', 'a%7Cb', '%', '|', '='),
);

describe('ticket identity', () => {
  it('keeps distinct places apart, even when values hold "|", "=" or "%"', () => {
    fc.assert(
      fc.property(
        fc.record({ alertname: anyText(10), incident_class: anyText(10) }),
        fc.constantFrom(...PLACE_LABELS),
        // A till on every alert, so the key is per till (a store-level alert leaves till and device out).
        fc.record({
          chain: placeValue,
          region: placeValue,
          store: placeValue,
          till: placeValue,
          device: placeValue,
        }),
        placeValue,
        (head, which, place, other) => {
          fc.pre(other !== place[which]);
          const a = identify({ ...head, ...place }, tickets);
          const b = identify({ ...head, ...place, [which]: other }, tickets);
          expect(a.key).not.toBe(b.key);
        },
      ),
    );
  });

  it('gives one key exactly to one family and place (no two label sets collide by concatenation)', () => {
    // Any two label sets: same key ⇔ same family and same place. Built so that collisions by moving a
    // separator between values are likely: values are cut from one string at random points.
    const pieces = fc.array(placeValue, { minLength: 1, maxLength: 5 });
    const labelsOf = (cls: string, ps: string[], names: string[]) =>
      Object.fromEntries([['incident_class', cls], ...names.map((n, i) => [n, ps[i] ?? ''])]);
    fc.assert(
      fc.property(
        placeValue,
        pieces,
        fc.shuffledSubarray([...PLACE_LABELS]),
        fc.shuffledSubarray([...PLACE_LABELS]),
        (cls, ps, n1, n2) => {
          const joined = ps.join('|');
          const a = identify(labelsOf(cls, ps, n1), tickets);
          const b = identify(labelsOf(cls, [joined, ...ps.slice(1)], n2), tickets);
          const same = a.family === b.family && JSON.stringify(a.place) === JSON.stringify(b.place);
          expect(a.key === b.key).toBe(same);
        },
      ),
    );
  });

  it('does not depend on label order, nor on labels outside the key (instance, job, severity, others)', () => {
    fc.assert(
      fc.property(
        labelSet,
        fc.record({ instance: anyText(20), job: anyText(10), severity: anyText(10) }),
        fc.dictionary(
          anyText(10).filter((k) => !['alertname', 'incident_class', ...PLACE_LABELS].includes(k)),
          anyText(10),
          { maxKeys: 5 },
        ),
        (labels, volatile, extra) => {
          const key = identify(labels, tickets).key;
          const reversed = Object.fromEntries(Object.entries(labels).reverse());
          expect(identify(reversed, tickets).key).toBe(key);
          expect(identify({ ...labels, ...volatile, ...extra }, tickets).key).toBe(key);
        },
      ),
    );
  });

  it('examples: the separators of the key are escaped', () => {
    const k = (l: Record<string, string>) => identify({ incident_class: 'c', ...l }, tickets).key;
    expect(k({ store: 'a|till=b' })).not.toBe(k({ store: 'a', till: 'b' }));
    expect(k({ store: 'a', till: 'b=c' })).not.toBe(k({ store: 'a', till: 'b', device: 'c' }));
    expect(escapeKeyPart('a%7Cb')).toBe('a%257Cb');
    expect(k({ store: 'a%7Cb', till: 't' })).not.toBe(k({ store: 'a|b', till: 't' }));
  });
});

// ---------------------------------------------------------------------------------------------------------
// The webhook, on a real bridge

const timestamp = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .date({
        min: new Date('1970-01-01T00:00:00Z'),
        max: new Date('2100-01-01T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString()),
  },
  fc.constantFrom(
    '0001-01-01T00:00:00Z',
    '2026-01-01T10:00:00+03:00',
    '',
    'not a date',
    '2026-13-45T99:99:99Z',
  ),
  anyText(25),
);
let fp = 0;
const alertArb = fc.record({
  status: fc.oneof(
    { weight: 50, arbitrary: fc.constantFrom('firing', 'resolved') },
    { weight: 1, arbitrary: anyText(8) },
  ),
  labels: labelSet,
  annotations: fc.dictionary(
    fc.oneof(fc.constantFrom('summary', 'description', 'runbook_url'), anyText(10)),
    anyText(200),
    { maxKeys: 6 },
  ),
  startsAt: timestamp,
  endsAt: timestamp,
  generatorURL: anyText(30),
  nulInFingerprint: fc.boolean(),
});

describe.each(ENGINES)('webhook on %s', (engine: Engine) => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  beforeAll(async () => {
    ctx = await startBridge(engine);
  });
  afterAll(async () => ctx?.close());

  it('stores any notification (200) or refuses it with a 4xx, never a 5xx; stored labels read back as sent', async () => {
    const answers = { stored: 0, refused: 0, checked: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(alertArb, { minLength: 1, maxLength: 4 }),
        anyText(30),
        async (alerts, externalURL) => {
          const sent = alerts.map(({ nulInFingerprint, ...a }) => ({
            ...a,
            fingerprint: `fp${nulInFingerprint ? '\u0000' : '-'}${++fp}`,
          }));
          const r = await postWebhook(ctx.bridge.url, payload(sent as never, { externalURL }));
          expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
          expect(r.status === 200 || (r.status >= 400 && r.status < 500)).toBe(true);
          if (r.status !== 200) answers.refused++;
          else answers.stored++;
          if (r.status !== 200 || r.body.rejected) return;
          const stored = new Map<string, Record<string, string>>();
          for (const id of new Set(r.body.tickets as number[])) {
            const t = (await api<TicketJson>(ctx.bridge.url, `/tickets/${id}`, { token: READ_TOKEN })).body;
            for (const a of t.alerts) stored.set(a.fingerprint, a.labels);
          }
          for (const a of sent.filter((a) => a.status === 'firing')) {
            const want = Object.fromEntries(
              Object.entries(a.labels)
                .filter(([k]) => k !== '__proto__') // dropped by the parser (see alertmanager.ts)
                .map(([k, v]) => [storable(k), storable(v)]),
            );
            expect(stored.get(storable(a.fingerprint))).toEqual(want);
            answers.checked++;
          }
        },
      ),
      { numRuns: engine === 'sqlite' ? 120 : 50 },
    );
    // Both answers happen, and stored alerts were really read back: the generators are not all-invalid.
    expect(answers.stored).toBeGreaterThanOrEqual(10);
    expect(answers.refused).toBeGreaterThanOrEqual(1);
    expect(answers.checked).toBeGreaterThanOrEqual(10);
    const ready = await fetch(`${ctx.bridge.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('example: a label named __proto__ is dropped, its alert and other labels stored', async () => {
    const a = { ...paperOut('t-proto', 's-proto'), fingerprint: `proto-${++fp}` };
    const body = JSON.stringify(payload([a])).replace(
      '"labels":{',
      '"labels":{"__proto__":"x","constructor":"y",',
    );
    const r = await postWebhook(ctx.bridge.url, body);
    expect(r.status).toBe(200);
    const id = (r.body.tickets as number[])[0]!;
    const t = (await api<TicketJson>(ctx.bridge.url, `/tickets/${id}`, { token: READ_TOKEN })).body;
    expect(t.alerts[0]!.labels).toEqual({ ...a.labels, constructor: 'y' });
  });
});
