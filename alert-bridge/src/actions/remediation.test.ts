// Remote actions through the real bridge and the real till agent (exporter/src/actions), on SQLite and
// PostgreSQL: a ticket of a class with a policy queues the action for its till and holds the page; the
// agent fetches it over its outbound channel and runs a harmless local script; the alert clears and the
// ticket resolves as auto-remediated with nobody paged (the Telegram emulator and the service-desk
// receiver get nothing). A fault the action cannot fix pages, with every attempt on the ticket. And the
// channel's security: a till sees and reports only its own actions; forged, stale and replayed requests
// are refused; the kill switches stop everything; fiscal policies are refused in the config.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionAgent, parseAgentConfig, signedHeaders } from '@tillwatch/exporter/actions';
import { startTelegramEmulator, type TelegramEmulator } from '@tillwatch/testkit/telegram';
import { startReceiver } from '@tillwatch/testkit/bridge';
import {
  ENGINES,
  READ_TOKEN,
  alert,
  api,
  payload,
  postWebhook,
  startBridge,
  waitFor,
  type TestAlert,
} from '@tillwatch/testkit/bridge';

const AGENT_TESTDATA = fileURLToPath(new URL('../../../exporter/src/actions/testdata/', import.meta.url));
const SECRETS: Record<string, string> = {
  'c1/s1/t1': 'secret-of-t1-0123456789abcdef0123456789',
  'c1/s1/t2': 'secret-of-t2-0123456789abcdef0123456789',
  'c1/s1/t4': 'secret-of-t4-0123456789abcdef0123456789',
  'c1/s1/t5': 'secret-of-t5-0123456789abcdef0123456789',
  'c1/s1/t6': 'secret-of-t6-0123456789abcdef0123456789',
  'c1/s1/t7': 'secret-of-t7-0123456789abcdef0123456789',
  'c2/s9/t1': 'secret-of-c2-0123456789abcdef0123456789',
};
// The policy's wait, on a clock the test moves: real time never reaches it, however slow the machine, and
// "past the wait" is one step of the test's clock and one sweep.
const WAIT = 60_000;

const utmDown = (
  till: string,
  store = 's1',
  chain = 'c1',
  status: 'firing' | 'resolved' = 'firing',
): TestAlert =>
  alert(
    {
      alertname: 'TillUtmDown',
      incident_class: 'egais.utm_down',
      severity: 'critical',
      team: 'software',
      chain,
      store,
      till,
      device: 'utm',
    },
    { status, startsAt: '2026-01-01T10:00:00Z' },
  );

interface TicketJson {
  id: number;
  status: string;
  till: string;
  auto_remediated: boolean;
  remediation_state: string | null;
  self_resolved: boolean;
}
interface EventJson {
  type: string;
  actor: string;
  data: Record<string, unknown>;
}

for (const engine of ENGINES) {
  describe(`remote actions (${engine})`, () => {
    let dir: string;
    let log: string;
    let killFile: string;
    let tg: TelegramEmulator;
    let desk: Awaited<ReturnType<typeof startReceiver>>;
    let b: Awaited<ReturnType<typeof startBridge>>;
    let skew = 0;

    const agentFor = (till: string, allow: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
      const secretFile = join(dir, `${till.replaceAll('/', '_')}.secret`);
      writeFileSync(secretFile, SECRETS[till]!);
      return new ActionAgent(
        parseAgentConfig(
          { bridge: { url: b.bridge.url, till, secret_file: secretFile }, allow, ...extra },
          'actions.yml',
          dir,
        ),
      );
    };
    const restart = (tag: string, exit = 0) => ({
      program: process.execPath,
      args: [join(AGENT_TESTDATA, exit === 0 ? 'record-argv.mjs' : 'fail.mjs'), log, tag],
    });
    const ran = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []);
    const ticketOf = async (till: string, store = 's1') =>
      (
        await api<{ tickets: TicketJson[] }>(
          b.bridge.url,
          `/tickets?incident_class=egais.utm_down&till=${till}&store=${store}&status=open,acknowledged,resolved`,
        )
      ).body.tickets[0];
    const eventsOf = async (id: number) =>
      (await api<{ events: EventJson[] }>(b.bridge.url, `/tickets/${id}`)).body.events;
    const metrics = async () => (await fetch(`${b.bridge.url}/metrics`)).text();

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tw-remediation-'));
      log = join(dir, 'argv.log');
      killFile = join(dir, 'remediation.off');
      tg = await startTelegramEmulator('55:REM');
      desk = await startReceiver('desk-secret');
      b = await startBridge(
        engine,
        {
          telegram: { bot_token: '55:REM', base_url: tg.url },
          teams: { software: { telegram: [{ chat_id: -100500 }] } },
          forwarding: {
            poll_interval: '100ms',
            targets: [{ name: 'desk', type: 'webhook', url: desk.url, secret: 'desk-secret' }],
          },
          tickets: { sweep_interval: '250ms' },
          remediation: {
            kill_switch_file: killFile,
            disabled_chains: ['c2'],
            tills: Object.entries(SECRETS).map(([id, secret]) => ({ id, secret })),
            policies: { 'egais.utm_down': { action: 'restart_utm', attempts: 2, wait: `${WAIT}ms` } },
          },
        },
        { now: () => Date.now() + skew },
      );
    }, 60_000);
    afterAll(async () => {
      await b?.close();
      await tg?.close();
      await desk?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a hung УТМ restarted through the till channel resolves as auto-remediated with nobody paged', async () => {
      expect((await postWebhook(b.bridge.url, payload([utmDown('t1')]))).status).toBe(200);
      const t = (await ticketOf('t1'))!;
      expect(t).toMatchObject({ status: 'open', remediation_state: 'pending' });
      const agent = agentFor('c1/s1/t1', { restart_utm: restart('utm-t1') });
      const done = await agent.pollOnce();
      expect(done.map((d) => d.report.result)).toEqual(['succeeded']);
      expect(ran()).toEqual(['["utm-t1"]']);
      expect((await ticketOf('t1'))!.remediation_state).toBe('succeeded');
      // The restart worked: Alertmanager sends the resolve within the wait.
      await postWebhook(b.bridge.url, payload([utmDown('t1', 's1', 'c1', 'resolved')]));
      const after = (await ticketOf('t1'))!;
      expect(after).toMatchObject({ status: 'resolved', auto_remediated: true, self_resolved: false });
      // Past the wait, still nobody was told: nothing is left to send, and nothing was sent.
      skew += WAIT + 1_000;
      await b.bridge.tickets.sweep();
      const pending = await b.bridge.store.db
        .selectFrom('outbox')
        .select('id')
        .where('ticket_id', '=', t.id)
        .where('status', '=', 'pending')
        .execute();
      expect(pending).toEqual([]);
      expect(tg.messages()).toEqual([]);
      expect(desk.got).toEqual([]);
      const ev = await eventsOf(t.id);
      expect(ev.map((e) => [e.type, e.data.step ?? e.data.auto_remediated ?? null])).toEqual([
        ['created', null],
        ['remediation', 'queued'],
        ['remediation', 'result'],
        ['resolved', true],
      ]);
      expect(ev[2]!.data).toMatchObject({
        action: 'restart_utm',
        attempt: 1,
        result: 'succeeded',
        exit_code: 0,
      });
      const page = await (
        await fetch(`${b.bridge.url}/ui/tickets/${t.id}`, {
          headers: { authorization: 'Bearer writer-secret-0123456789' },
        })
      ).text();
      expect(page).toContain('auto-remediated');
      expect(page).toContain('restart_utm, attempt 1: succeeded (exit 0)');
      const m = await metrics();
      expect(m).toContain(
        'tillwatch_bridge_remediation_tickets_total{incident_class="egais.utm_down",outcome="auto_remediated"} 1',
      );
      expect(m).toContain(
        'tillwatch_bridge_remediation_actions_total{incident_class="egais.utm_down",action="restart_utm",result="succeeded"} 1',
      );
      // The new series follow Prometheus naming: promtool has nothing to say about them.
      const lint = execFileSync('promtool', ['check', 'metrics'], {
        input: m
          .split('\n')
          .filter((l) => /tillwatch_bridge_(remediation|till_requests)/.test(l))
          .map((l) => `${l}\n`)
          .join(''),
        encoding: 'utf8',
      });
      expect(lint).toBe('');
    }, 30_000);

    it('a fault the action cannot fix pages after the attempts, with each attempt on the ticket', async () => {
      await postWebhook(b.bridge.url, payload([utmDown('t2')]));
      const t = (await ticketOf('t2'))!;
      const agent = agentFor('c1/s1/t2', { restart_utm: restart('utm-t2', 3) });
      expect((await agent.pollOnce()).map((d) => d.report)).toMatchObject([
        { result: 'failed', exit_code: 3 },
      ]);
      expect((await agent.pollOnce()).map((d) => d.report)).toMatchObject([
        { result: 'failed', exit_code: 3 },
      ]);
      // Two attempts used: the page goes out at once, to the team's chat and the service desk.
      const msgs = await waitFor(
        () => tg.messages().length > 0 && tg.messages(),
        'the page to the team chat',
        10_000,
      );
      expect(msgs[0]!.text).toContain('t2');
      // The page says what was tried, so the engineer does not try it again.
      expect(msgs[0]!.text).toContain(
        'Tried automatically: restart_utm (1: failed), restart_utm (2: failed); it did not help',
      );
      await waitFor(() => desk.got.some((g) => g.type === 'ticket.created'), 'the service desk event');
      const results = (await eventsOf(t.id)).filter(
        (e) => e.type === 'remediation' && e.data.step === 'result',
      );
      expect(results.map((e) => [e.data.attempt, e.data.result])).toEqual([
        [1, 'failed'],
        [2, 'failed'],
      ]);
      expect(String(results[1]!.data.output)).toContain('control process exited');
      expect(results[1]!.data.paging).toBe(true);
      expect((await ticketOf('t2'))!.remediation_state).toBe('failed');
      expect(await metrics()).toContain(
        'tillwatch_bridge_remediation_tickets_total{incident_class="egais.utm_down",outcome="paged"} 1',
      );
    }, 30_000);

    it("a till never sees or reports another till's action; an action off its allowlist is refused on the till", async () => {
      rmSync(log, { force: true });
      await postWebhook(b.bridge.url, payload([utmDown('t3')]));
      // t3 is not enrolled: no action, no hold. Enrol-less tills page as before.
      expect((await ticketOf('t3'))!.remediation_state).toBeNull();
      await postWebhook(b.bridge.url, payload([utmDown('t4')]));
      // t4's action: t2 polls and gets nothing of it, and cannot report it.
      const t2 = agentFor('c1/s1/t2', { restart_utm: restart('utm-t2') });
      expect(await t2.pollOnce()).toEqual([]);
      const queued = await b.bridge.store.db
        .selectFrom('remediation_actions')
        .selectAll()
        .where('till', '=', 'c1/s1/t4')
        .where('status', '=', 'queued')
        .execute();
      expect(queued).toHaveLength(1);
      const body = JSON.stringify({ result: 'succeeded' });
      const path = `/till/v1/actions/${queued[0]!.id}/result`;
      const res = await fetch(b.bridge.url + path, {
        method: 'POST',
        headers: signedHeaders(SECRETS['c1/s1/t2']!, 'c1/s1/t2', 'POST', path, body),
        body,
      });
      expect(res.status).toBe(404);
      // t4's till does not allow restart_utm: it refuses, runs nothing, and says so.
      const t4 = agentFor('c1/s1/t4', { restart_marking: restart('marking') });
      expect((await t4.pollOnce()).map((d) => d.report)).toMatchObject([
        { result: 'refused', reason: "action restart_utm is not on this till's allowlist" },
      ]);
      expect(ran()).toEqual([]);
      expect(await metrics()).toContain('result="refused"} 1');
    }, 30_000);

    it('forged, tampered, stale and replayed requests are refused before anything is read', async () => {
      const path = '/till/v1/actions/poll';
      const post = (headers: Record<string, string>, body = '{}') =>
        fetch(b.bridge.url + path, { method: 'POST', headers, body }).then((r) => r.status);
      const t1 = 'c1/s1/t1';
      expect(await post(signedHeaders('a-guessed-secret-0123456789abcdef0123', t1, 'POST', path, '{}'))).toBe(
        401,
      );
      expect(await post(signedHeaders(SECRETS[t1]!, 'c1/s1/unknown', 'POST', path, '{}'))).toBe(401);
      expect(await post(signedHeaders(SECRETS[t1]!, t1, 'POST', path, '{}'), '{"x":1}')).toBe(401);
      expect(await post(signedHeaders(SECRETS[t1]!, t1, 'POST', path, '{}', Date.now() - 10 * 60_000))).toBe(
        401,
      );
      expect(await post({})).toBe(401);
      const h = signedHeaders(SECRETS[t1]!, t1, 'POST', path, '{}');
      expect(await post(h)).toBe(200);
      expect(await post(h)).toBe(401);
      const m = await metrics();
      for (const reason of ['bad_signature', 'unknown_till', 'stale', 'replayed'])
        expect(m).toMatch(
          new RegExp(`tillwatch_bridge_till_requests_rejected_total\\{reason="${reason}"\\} [1-9]`),
        );
    });

    it('an operator asks the till for an action from the ticket, with a confirmation; the till runs it and the result is on the ticket', async () => {
      rmSync(log, { force: true });
      const marking = alert(
        {
          alertname: 'TillMarkingModuleDown',
          incident_class: 'marking.down',
          severity: 'critical',
          team: 'software',
          store: 's1',
          till: 't7',
          device: 'marking',
        },
        { startsAt: '2026-01-01T10:00:00Z' },
      );
      await postWebhook(b.bridge.url, payload([marking]));
      const list = await api<{ tickets: TicketJson[] }>(
        b.bridge.url,
        '/tickets?incident_class=marking.down&till=t7',
      );
      const id = list.body.tickets[0]!.id;
      // No policy for the class: nothing was queued by itself.
      expect(list.body.tickets[0]!.remediation_state).toBeNull();
      const ask = (body: unknown, token?: string) =>
        api(b.bridge.url, `/tickets/${id}/remote_action`, {
          method: 'POST',
          body,
          ...(token ? { token } : {}),
        });
      expect((await ask({ action: 'restart_marking' })).status).toBe(400);
      expect((await ask({ action: 'restart_marking', confirm: true }, READ_TOKEN)).status).toBe(403);
      expect((await ask({ action: 'close_shift', confirm: true })).status).toBe(409);
      expect((await ask({ action: 'restart_marking; reboot', confirm: true })).status).toBe(400);
      expect((await ask({ action: 'restart_marking', confirm: true })).status).toBe(200);
      const agent = agentFor('c1/s1/t7', { restart_marking: restart('marking-t7') });
      expect((await agent.pollOnce()).map((d) => d.report.result)).toEqual(['succeeded']);
      expect(ran()).toEqual(['["marking-t7"]']);
      const ev = (await eventsOf(id)).filter((e) => e.type === 'remediation');
      expect(ev.map((e) => [e.actor, e.data.step, e.data.result ?? null])).toEqual([
        ['alice', 'requested', null],
        ['bridge', 'result', 'succeeded'],
      ]);
      const page = await (
        await fetch(`${b.bridge.url}/ui/tickets/${id}`, {
          headers: { authorization: `Basic ${Buffer.from('x:writer-secret-0123456789').toString('base64')}` },
        })
      ).text();
      expect(page).toContain('alice asked the till to run restart_marking');
      expect(page).toContain('I confirm running it on the till');
    }, 30_000);

    it('the kill switches stop everything at once: file, chain, and the page is not held', async () => {
      rmSync(log, { force: true });
      const before = tg.messages().length;
      const queuedFor = (till: string) =>
        b.bridge.store.db
          .selectFrom('remediation_actions')
          .select(['id', 'status'])
          .where('till', '=', till)
          .execute();
      await postWebhook(b.bridge.url, payload([utmDown('t5')]));
      expect(await queuedFor('c1/s1/t5')).toMatchObject([{ status: 'queued' }]);
      writeFileSync(killFile, '');
      try {
        // Queued before the switch: not handed out while it is on.
        const agent = agentFor('c1/s1/t5', { restart_utm: restart('utm-t5') });
        expect(await agent.pollOnce()).toEqual([]);
        expect(await queuedFor('c1/s1/t5')).toMatchObject([{ status: 'queued' }]);
        // A new ticket while it is on: nothing queued, and its page is not held.
        await postWebhook(b.bridge.url, payload([utmDown('t6')]));
        expect((await ticketOf('t6'))!.remediation_state).toBeNull();
        expect(await queuedFor('c1/s1/t6')).toEqual([]);
        await waitFor(
          () => tg.messages().some((m) => m.text.includes('t6')),
          'the page of the ticket opened under the kill switch',
        );
      } finally {
        rmSync(killFile);
      }
      // The chain switch: c2's till is enrolled but gets no action, and its page is not held.
      await postWebhook(b.bridge.url, payload([utmDown('t1', 's9', 'c2')]));
      expect((await ticketOf('t1', 's9'))!.remediation_state).toBeNull();
      expect(await agentFor('c2/s9/t1', { restart_utm: restart('c2') }).pollOnce()).toEqual([]);
      await waitFor(() => tg.messages().some((m) => m.text.includes('s9')), 'the unheld page of chain c2');
      expect(tg.messages().length).toBeGreaterThan(before + 1);
      expect(ran()).toEqual([]);
    }, 30_000);

    it('an action still queued when its alert clears is dropped, not run on a healthy till', async () => {
      rmSync(log, { force: true });
      await postWebhook(b.bridge.url, payload([utmDown('t5', 's1', 'c1', 'resolved')]));
      expect((await ticketOf('t5'))!.status).toBe('resolved');
      expect(await agentFor('c1/s1/t5', { restart_utm: restart('utm-t5') }).pollOnce()).toEqual([]);
      const rows = await b.bridge.store.db
        .selectFrom('remediation_actions')
        .select(['status', 'reason'])
        .where('till', '=', 'c1/s1/t5')
        .execute();
      expect(rows).toEqual([{ status: 'expired', reason: 'the ticket resolved before the till fetched it' }]);
      expect(ran()).toEqual([]);
    });
  });
}

describe('remediation dry run', () => {
  it('records on the ticket what it would queue, queues nothing and holds no page', async () => {
    const b = await startBridge('sqlite', {
      remediation: {
        dry_run: true,
        tills: [{ id: 'c1/s1/t1', secret: SECRETS['c1/s1/t1'] }],
        policies: { 'egais.utm_down': { action: 'restart_utm' } },
      },
    });
    try {
      await postWebhook(b.bridge.url, payload([utmDown('t1')]));
      const t = (await api<{ tickets: TicketJson[] }>(b.bridge.url, '/tickets?incident_class=egais.utm_down'))
        .body.tickets[0]!;
      expect(t.remediation_state).toBeNull();
      const ev = (await api<{ events: EventJson[] }>(b.bridge.url, `/tickets/${t.id}`)).body.events;
      expect(ev.filter((e) => e.type === 'remediation').map((e) => e.data)).toEqual([
        { step: 'dry_run', action: 'restart_utm', attempts: 1, wait_ms: 300_000 },
      ]);
      expect(await b.bridge.store.db.selectFrom('remediation_actions').selectAll().execute()).toEqual([]);
      const row = await b.bridge.store.db.selectFrom('tickets').select('page_hold_until').executeTakeFirst();
      expect(row!.page_hold_until).toBeNull();
    } finally {
      await b.close();
    }
  });
});
