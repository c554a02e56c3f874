// The bridge half of issue 18's "warnings survive the night": the ФН warning that
// rules/tests/store-hours.test.yml keeps firing through three days and nights at a store closed
// 22:00-08:00 reaches the bridge as a real Alertmanager sends it — the same alert (same labels, same
// startsAt) in the group the shipped route makes (deploy/alertmanager.yml), first after group_wait and then
// again every repeat_interval, never resolved. The bridge must keep one ticket, send one "new ticket" to the
// desk and to the team's Telegram chat, and resolve nothing. The bridge's clock moves with Alertmanager's,
// and its sweep (close stale, SLA, escalation) runs between notifications as it would through the nights.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTelegramEmulator, type TelegramEmulator } from '@tillwatch/testkit/telegram';
import {
  ENGINES,
  alert,
  api,
  postWebhook,
  startBridge,
  startReceiver,
  waitFor,
} from '@tillwatch/testkit/bridge';
import { parseDuration } from './config-parts.js';

const AM_CONFIG = fileURLToPath(new URL('../../deploy/alertmanager.yml', import.meta.url));

interface Route {
  receiver?: string;
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  matchers?: string[];
  routes?: Route[];
}
interface Resolved {
  receiver: string;
  groupBy: string[];
  groupWait: number;
  repeatInterval: number;
  /** Alertmanager's route key: the matchers of every route from the root, as it puts them in groupKey. */
  key: string;
}

/**
 * Alertmanager's first-match routing (continue: false everywhere in the shipped file) for one label set,
 * with the settings each child inherits from its parent. Only the `name="value"` matchers the shipped file
 * uses are understood; any other form fails the test by name rather than being guessed at.
 */
function route(r: Route, labels: Record<string, string>, parent?: Resolved): Resolved {
  const matchers = (r.matchers ?? []).map((m) => {
    const eq = /^(\w+)="([^"]*)"$/.exec(m);
    if (!eq) throw new Error(`deploy/alertmanager.yml: matcher ${m} is not name="value"; teach this test`);
    return [eq[1]!, eq[2]!] as const;
  });
  const here: Resolved = {
    receiver: r.receiver ?? parent!.receiver,
    groupBy: r.group_by ?? parent!.groupBy,
    groupWait: r.group_wait ? parseDuration(r.group_wait) : parent!.groupWait,
    repeatInterval: r.repeat_interval ? parseDuration(r.repeat_interval) : parent!.repeatInterval,
    key: parent ? `${parent.key}/{${matchers.map(([k, v]) => `${k}="${v}"`).join(',')}}` : '{}',
  };
  for (const child of r.routes ?? []) {
    const m = (child.matchers ?? []).every((x) => {
      const eq = /^(\w+)="([^"]*)"$/.exec(x);
      if (!eq) throw new Error(`deploy/alertmanager.yml: matcher ${x} is not name="value"; teach this test`);
      return labels[eq[1]!] === eq[2];
    });
    if (m) return route(child, labels, here);
  }
  return here;
}

// The alert promtool keeps firing in rules/tests/store-hours.test.yml, read from that test: its labels and
// annotations at every evaluation through the three days and nights (the test checks they never change, so
// Alertmanager sees one alert throughout).
const PROMTOOL_TEST = fileURLToPath(new URL('../../rules/tests/store-hours.test.yml', import.meta.url));
const NIGHTS_TEST =
  'a till with an FN warning at a store closed 22:00-08:00 keeps one firing alert over three days and nights';
interface PromtoolAlert {
  exp_labels: Record<string, string>;
  exp_annotations: Record<string, string>;
}
const nights = (
  parse(readFileSync(PROMTOOL_TEST, 'utf8')) as {
    tests: {
      name: string;
      alert_rule_test: { eval_time: string; alertname: string; exp_alerts: PromtoolAlert[] }[];
    }[];
  }
).tests.find((t) => t.name === NIGHTS_TEST);
if (!nights) throw new Error(`${PROMTOOL_TEST}: no test named "${NIGHTS_TEST}"`);
const evaluations = nights.alert_rule_test.filter((a) => a.alertname === 'TillFiscalFnWarning');
const LABELS = evaluations[0]!.exp_alerts[0]!.exp_labels;
const ANNOTATIONS = evaluations[0]!.exp_alerts[0]!.exp_annotations;
// The promtool test starts at 12:00 local time (its store closes 10 hours later, at 22:00); here in Moscow,
// UTC+3, so its nights are 19:00-05:00 UTC.
const STARTS = Date.parse('2026-03-02T09:00:00Z');
const THREE_DAYS = 3 * 86_400_000;

for (const engine of ENGINES) {
  describe(`a warning that survives three nights (${engine})`, () => {
    let tg: TelegramEmulator;
    let desk: Awaited<ReturnType<typeof startReceiver>>;
    let b: Awaited<ReturnType<typeof startBridge>>;
    // The bridge's clock: real time (its delivery batching and retries wait on it) moved by the test, so
    // that 3 days of Alertmanager's repeats pass in seconds.
    const clock = { skew: 0 };
    const now = () => Date.now() + clock.skew;
    const am = route((parse(readFileSync(AM_CONFIG, 'utf8')) as { route: Route }).route, LABELS);

    beforeAll(async () => {
      clock.skew = STARTS - Date.now();
      tg = await startTelegramEmulator('77:NIGHTS');
      desk = await startReceiver('desk-secret');
      b = await startBridge(
        engine,
        {
          telegram: { bot_token: '77:NIGHTS', base_url: tg.url },
          teams: { fiscal: { telegram: [{ chat_id: -100777 }] } },
          forwarding: {
            poll_interval: '100ms',
            targets: [{ name: 'desk', type: 'webhook', url: desk.url, secret: 'desk-secret' }],
          },
        },
        { now },
      );
    }, 60_000);
    afterAll(async () => {
      await b?.close();
      await tg?.close();
      await desk?.close();
    });

    it('the promtool test keeps one alert with the same labels from its first evaluation to its last', () => {
      expect(evaluations.map((e) => e.eval_time)).toContain('3d');
      for (const e of evaluations) {
        expect(e.exp_alerts).toHaveLength(1);
        expect(e.exp_alerts[0]!.exp_labels).toEqual(LABELS);
      }
    });

    it('one ticket, one "new ticket" at the desk and in Telegram, no resolve, over 3 days of repeats', async () => {
      // The shipped route for this alert: the fiscal team's receiver, warnings batched (not the critical
      // child), grouped per till and alert name; the repeat is what keeps the ticket alive overnight.
      expect(am.receiver).toBe('bridge-fiscal');
      expect(am.groupBy).toEqual(['chain', 'region', 'store', 'till', 'alertname']);
      const groupLabels = Object.fromEntries(am.groupBy.map((k) => [k, LABELS[k]!]));
      const groupKey = `${am.key}:{${am.groupBy
        .slice()
        .sort()
        .map((k) => `${k}="${groupLabels[k]}"`)
        .join(', ')}}`;
      const firing = alert(LABELS, {
        startsAt: new Date(STARTS).toISOString(),
        annotations: ANNOTATIONS,
      });
      const notification = {
        version: '4',
        groupKey,
        truncatedAlerts: 0,
        status: 'firing',
        receiver: am.receiver,
        groupLabels,
        commonLabels: LABELS,
        commonAnnotations: { ...firing.annotations },
        externalURL: 'http://127.0.0.1:9093',
        alerts: [firing],
      };

      const ids = new Set<number>();
      let sent = 0;
      for (let at = STARTS + am.groupWait; at <= STARTS + THREE_DAYS; at += am.repeatInterval) {
        clock.skew += at - now();
        // The nights between: the bridge sweeps as it does every minute (only the last sweep matters to
        // what a sweep decides, so one per step is enough).
        await b.bridge.tickets.sweep();
        const r = await postWebhook(b.bridge.url, notification);
        expect(r.status).toBe(200);
        for (const id of r.body.tickets as number[]) ids.add(id);
        sent++;
        if (sent === 1) {
          // Let the first delivery go before the next repeat, as it would in real time.
          await waitFor(() => desk.got.length > 0 && tg.messages().length > 0, 'first delivery');
        }
      }
      // 72 h / 4 h: nineteen notifications with the first, two or three of them each night.
      expect(sent).toBe(Math.floor((THREE_DAYS - am.groupWait) / am.repeatInterval) + 1);
      expect(sent).toBeGreaterThanOrEqual(18);
      expect([...ids]).toHaveLength(1);
      const id = [...ids][0]!;

      const t = (
        await api<{
          status: string;
          self_resolved: boolean;
          resolved_at: number | null;
          events: { type: string }[];
        }>(b.bridge.url, `/tickets/${id}`)
      ).body;
      expect(t.status).toBe('open');
      expect(t.resolved_at).toBeNull();
      expect(t.events.map((e) => e.type)).not.toContain('resolved');
      expect(t.events.filter((e) => e.type === 'created')).toHaveLength(1);
      expect(
        (
          await api<{ tickets: unknown[] }>(
            b.bridge.url,
            '/tickets?store=s1&status=open,acknowledged,resolved,closed',
          )
        ).body.tickets,
      ).toHaveLength(1);

      // Whatever the outbox still had to deliver is out: give it a few polls of real time.
      await new Promise((r) => setTimeout(r, 1_000));
      const types = desk.got.map((g) => g.type);
      expect(types.filter((x) => x === 'ticket.created')).toHaveLength(1);
      expect(types.filter((x) => /resolved|closed/.test(x))).toEqual([]);
      const chat = tg.messages('-100777');
      expect(chat).toHaveLength(1);
      expect(chat[0]!.text).toContain('s1');
    }, 60_000);

    it('without the hold (no calendar) the same till resolves each evening and pages again each morning', async () => {
      // What made the ticket count matter: the rule as it was before calendars resolves at 22:05 and fires
      // again at 08:05 with a new startsAt (rules/tests/store-hours.test.yml, "without a calendar"). Another
      // store, so the tickets above are not touched.
      const labels: Record<string, string> = { ...LABELS, store: 's2' };
      const groupLabels = Object.fromEntries(am.groupBy.map((k) => [k, labels[k]!]));
      const send = async (status: 'firing' | 'resolved', startsAt: number, at: number) => {
        clock.skew += at - now();
        await b.bridge.tickets.sweep();
        const a = alert(labels, {
          status,
          startsAt: new Date(startsAt).toISOString(),
          ...(status === 'resolved' ? { endsAt: new Date(at).toISOString() } : {}),
          annotations: ANNOTATIONS,
        });
        const r = await postWebhook(b.bridge.url, {
          version: '4',
          groupKey: `${am.key}:{${Object.keys(groupLabels)
            .sort()
            .map((k) => `${k}="${groupLabels[k]}"`)
            .join(', ')}}`,
          truncatedAlerts: 0,
          status,
          receiver: am.receiver,
          groupLabels,
          commonLabels: labels,
          commonAnnotations: ANNOTATIONS,
          externalURL: 'http://127.0.0.1:9093',
          alerts: [a],
        });
        expect(r.status).toBe(200);
        // Each message out before the next notification, as hours apart in real time.
        await new Promise((r) => setTimeout(r, 300));
      };
      const base = STARTS + 4 * 86_400_000;
      const HOUR = 3_600_000;
      for (let day = 0; day < 3; day++) {
        const morning = base + day * 86_400_000 - 4 * HOUR + 5 * 60_000; // 08:05 local
        await send('firing', morning, morning + am.groupWait);
        await send('resolved', morning, morning + 14 * HOUR + am.groupWait); // 22:05 local
      }
      await new Promise((r) => setTimeout(r, 1_000));
      const forS2 = desk.got.filter((g) => JSON.stringify(g.body).includes('"s2"')).map((g) => g.type);
      expect(forS2.filter((x) => x === 'ticket.resolved').length).toBeGreaterThanOrEqual(3);
      expect(
        forS2.filter((x) => x === 'ticket.created' || x === 'ticket.reopened').length,
      ).toBeGreaterThanOrEqual(3);
    }, 60_000);
  });
}
