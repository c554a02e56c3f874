import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TicketDetail } from './tickets/index.js';
import {
  READ_TOKEN,
  WRITE_TOKEN,
  alert,
  api,
  paperOut,
  payload,
  postWebhook,
  startBridge,
} from '@tillwatch/testkit/bridge';
import { C2_SERVICE, OLGA_TOKEN, PEOPLE, ROOT_TOKEN, START } from '@tillwatch/testkit/bridge';
import { WebClient } from '@tillwatch/testkit/bridge';

// People, roles, chain scopes, signed links and the hardening of the pages (issues 17 and 23).

const TOKENS = {
  tokens: [
    { name: 'reader', token: READ_TOKEN, scope: 'read' },
    { name: 'alice-cli', token: WRITE_TOKEN, scope: 'write', user: 'alice' },
    { name: 'olga-cli', token: OLGA_TOKEN, scope: 'write', user: 'olga' },
    { name: 'c2-sync', token: C2_SERVICE, scope: 'read', chains: ['c2'] },
    { name: 'root-cli', token: ROOT_TOKEN, scope: 'write', user: 'root' },
  ],
};

describe('people: named users, roles, chain scopes, links and hardened pages', () => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  let clock = START;
  let c1: number;
  let c2: number;
  let hostile: number;
  const events = async (id: number) => (await ctx.bridge.tickets.get(id)).events.length;

  beforeAll(async () => {
    ctx = await startBridge(
      'sqlite',
      { locale: 'ru', timezone: 'Asia/Yekaterinburg', auth: PEOPLE, api: TOKENS },
      { now: () => clock },
    );
    c1 = ((await postWebhook(ctx.bridge.url, payload([paperOut('t1', 's1')]))).body.tickets as number[])[0]!;
    const other = alert({
      alertname: 'TillPaperOut',
      incident_class: 'fiscal.paper_out',
      chain: 'c2',
      store: 'x1',
      till: 't1',
      device: 'kkt',
    });
    c2 = ((await postWebhook(ctx.bridge.url, payload([other]))).body.tickets as number[])[0]!;
    const evil = alert(
      {
        alertname: 'Evil',
        incident_class: 'x.hostile',
        store: '<img src=x onerror=alert(1)>',
        till: 't1',
      },
      {
        annotations: {
          summary: '<script>alert(1)</script>',
          runbook_url: 'javascript:alert(1)',
          dashboard_url: 'data:text/html,<script>alert(1)</script>',
        },
      },
    );
    hostile = (
      (await postWebhook(ctx.bridge.url, payload([evil], { externalURL: 'javascript:alert(2)' }))).body
        .tickets as number[]
    )[0]!;
  });
  afterAll(async () => ctx?.close());

  it('records the user a token belongs to as the actor, and a service token under its own name', async () => {
    const r = await api<TicketDetail>(ctx.bridge.url, `/tickets/${c1}/comments`, {
      method: 'POST',
      body: { text: 'hi' },
    });
    expect(r.status).toBe(201);
    expect(r.body.events.at(-1)).toMatchObject({ type: 'commented', actor: 'alice' });
    expect((await api(ctx.bridge.url, '/me', { token: C2_SERVICE })).body).toEqual({
      name: 'c2-sync',
      role: 'viewer',
      chains: ['c2'],
    });
  });

  it('a chain-scoped user never sees another chain: the list is filtered and the detail is 404', async () => {
    const list = await api<{ tickets: { id: number }[] }>(ctx.bridge.url, '/tickets', { token: OLGA_TOKEN });
    expect(list.body.tickets.map((t) => t.id)).toContain(c1);
    expect(list.body.tickets.map((t) => t.id)).not.toContain(c2);
    expect((await api(ctx.bridge.url, `/tickets?chain=c2`, { token: OLGA_TOKEN })).body).toEqual({
      tickets: [],
    });
    expect((await api(ctx.bridge.url, `/tickets/${c2}`, { token: OLGA_TOKEN })).status).toBe(404);
    const before = await events(c2);
    const post = { method: 'POST', body: { text: 'x' }, token: OLGA_TOKEN };
    expect((await api(ctx.bridge.url, `/tickets/${c2}/comments`, post)).status).toBe(404);
    expect(await events(c2)).toBe(before);
    // A service token scoped to c2 sees only c2.
    const svc = await api<{ tickets: { id: number }[] }>(ctx.bridge.url, '/tickets', { token: C2_SERVICE });
    expect(svc.body.tickets.map((t) => t.id)).toEqual([c2]);
    // The same on the pages.
    const olga = new WebClient(ctx.bridge.url);
    expect((await olga.login('olga', 'olga-password')).status).toBe(303);
    expect((await olga.get(`/ui/tickets/${c2}`)).status).toBe(404);
    const mine = await olga.get('/ui');
    expect(mine.text).toContain(`/ui/tickets/${c1}"`);
    expect(mine.text).not.toContain(`/ui/tickets/${c2}"`);
  });

  it('lists users to admins only, with their Telegram ids and without password hashes', async () => {
    expect((await api(ctx.bridge.url, '/users')).status).toBe(403);
    const root = new WebClient(ctx.bridge.url, { 'x-webauth-user': 'root' });
    expect((await root.get('/ui')).status).toBe(200); // proxy header from 127.0.0.1 names a configured admin
    const r = await api<{ users: Record<string, unknown>[] }>(ctx.bridge.url, '/users', {
      token: ROOT_TOKEN,
    });
    expect(r.status).toBe(200);
    expect(r.body.users.map((u) => u.name)).toEqual(['alice', 'victor', 'olga', 'root']);
    expect(r.body.users.at(-1)).toEqual({
      name: 'root',
      role: 'admin',
      chains: null,
      telegram_id: 4242,
      login: true,
    });
    expect(JSON.stringify(r.body)).not.toMatch(/\$2[aby]\$/);
  });

  it('a viewer sees no buttons and gets 403 on every action, on the pages and the API', async () => {
    const v = new WebClient(ctx.bridge.url);
    await v.login('victor', 'victor-password');
    const page = await v.get(`/ui/tickets/${c1}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('action="/ui/tickets/');
    const before = await events(c1);
    const csrf = WebClient.csrfOf(page.text); // the logout form's token
    for (const a of ['acknowledge', 'resolve', 'reopen', 'assign', 'comments']) {
      expect((await v.post(`/ui/tickets/${c1}/${a}`, { _csrf: csrf, text: 'x' })).status).toBe(403);
    }
    expect(
      (await api(ctx.bridge.url, `/tickets/${c1}/acknowledge`, { method: 'POST', token: READ_TOKEN })).status,
    ).toBe(403);
    expect(await events(c1)).toBe(before);
  });

  it('refuses a form post without the CSRF token, or with one from another session', async () => {
    const a = new WebClient(ctx.bridge.url);
    await a.login('alice', 'alice-password');
    const before = await events(c1);
    const none = await a.post(`/ui/tickets/${c1}/comments`, { text: 'forged' });
    expect(none.status).toBe(403);
    expect(none.text).toContain('Форма устарела');
    const b = new WebClient(ctx.bridge.url);
    await b.login('alice', 'alice-password');
    const other = WebClient.csrfOf((await b.get(`/ui/tickets/${c1}`)).text);
    expect((await a.post(`/ui/tickets/${c1}/comments`, { _csrf: other, text: 'forged' })).status).toBe(403);
    expect(await events(c1)).toBe(before);
    // With its own token the same post works and is recorded under alice's name.
    const mine = WebClient.csrfOf((await a.get(`/ui/tickets/${c1}`)).text);
    const ok = await a.post(`/ui/tickets/${c1}/comments`, { _csrf: mine, text: 'real' });
    expect(ok.status).toBe(303);
    expect((await ctx.bridge.tickets.get(c1)).events.at(-1)).toMatchObject({
      actor: 'alice',
      data: { text: 'real' },
    });
  });

  it('session cookies are HttpOnly and SameSite; a wrong password is 401 with no cookie', async () => {
    const a = new WebClient(ctx.bridge.url);
    const ok = await a.login('alice', 'alice-password');
    const session = ok.res.headers.getSetCookie().find((c) => c.startsWith('tw_session='))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);
    const bad = await new WebClient(ctx.bridge.url).login('alice', 'nope-nope');
    expect(bad.status).toBe(401);
    expect(bad.res.headers.getSetCookie().some((c) => c.startsWith('tw_session='))).toBe(false);
    // Logged-out pages send people to the login form, back to where they were going.
    const anon = await new WebClient(ctx.bridge.url).get(`/ui/tickets/${c1}`);
    expect(anon.status).toBe(303);
    expect(anon.location).toBe(`/ui/login?next=${encodeURIComponent(`/ui/tickets/${c1}`)}`);
  });

  it('a signed link opens the ticket read-only without login, until it expires; a forged one is refused', async () => {
    // The link names public_url; the test bridge listens on a port of its own.
    const signed = new URL(ctx.bridge.links!.signedTicketLink(c1, clock));
    const link = signed.pathname + signed.search;
    const anon = new WebClient(ctx.bridge.url);
    const ok = await anon.get(link);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('Закончилась чековая лента');
    expect(ok.text).not.toContain('<form method="post" action="/ui/tickets/');
    const u = signed;
    const before = await events(c1);
    // Another ticket's id under this signature, a changed expiry, a made-up signature.
    for (const forged of [
      link.replace(`/ui/link/${c1}?`, `/ui/link/${c2}?`),
      link.replace(/exp=\d+/, `exp=${Number(u.searchParams.get('exp')) + 3600}`),
      `/ui/link/${c1}?exp=${u.searchParams.get('exp')}&sig=${'0'.repeat(64)}`,
      `/ui/link/${c1}`,
    ]) {
      const r = await anon.get(forged);
      expect(r.status, forged).toBe(403);
      expect(r.text).toContain('Ссылка повреждена или подделана');
    }
    clock += 61 * 60_000;
    try {
      const late = await anon.get(link);
      expect(late.status).toBe(410);
      expect(late.text).toContain('Срок действия ссылки истёк');
    } finally {
      clock -= 61 * 60_000;
    }
    expect(await events(c1)).toBe(before);
  });

  it('renders hostile labels and annotations escaped and writes only http(s) URLs into links', async () => {
    const a = new WebClient(ctx.bridge.url);
    await a.login('alice', 'alice-password');
    for (const path of [`/ui/tickets/${hostile}`, '/ui']) {
      const html = (await a.get(path)).text;
      expect(html).not.toContain('<script>alert(1)');
      expect(html).not.toContain('<img src=x');
      expect(html).not.toMatch(/href="(javascript|data):/i);
    }
    const html = (await a.get(`/ui/tickets/${hostile}`)).text;
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('sends a CSP without inline code, denies framing and MIME sniffing', async () => {
    const r = await new WebClient(ctx.bridge.url).get('/ui/login');
    const csp = r.res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(r.res.headers.get('x-frame-options')).toBe('DENY');
    expect(r.res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.text).not.toMatch(/<style|<script/);
  });

  it('authenticates an API call before reading its body', async () => {
    const res = await fetch(`${ctx.bridge.url}/api/v1/tickets/${c1}/comments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text": ',
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('trusts the proxy header only from the configured addresses, and lets unknown names in as viewers', async () => {
    const newcomer = new WebClient(ctx.bridge.url, { 'x-webauth-user': 'newcomer' });
    const page = await newcomer.get(`/ui/tickets/${c1}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('newcomer (наблюдатель)');
    expect(page.text).not.toContain('action="/ui/tickets/');
  });
});

describe('the proxy header from an address that is not a configured proxy', () => {
  it('is ignored: the person has to log in', async () => {
    const ctx = await startBridge('sqlite', {
      auth: { ...PEOPLE, proxy: { header: 'X-WEBAUTH-USER', from: ['::1'], auto_create: false } },
      api: TOKENS,
    });
    try {
      const r = await new WebClient(ctx.bridge.url, { 'x-webauth-user': 'root' }).get('/ui');
      expect(r.status).toBe(303);
      expect(r.location).toMatch(/^\/ui\/login/);
    } finally {
      await ctx.close();
    }
  });
});

describe('failed authentication is limited per client address', () => {
  it('answers 429 with Retry-After after the limit, even to the right token, and counts only failures', async () => {
    const ctx = await startBridge('sqlite', {
      auth: { ...PEOPLE, failures: { limit: 3, window: '1m' } },
      api: TOKENS,
    });
    try {
      // Successes do not count.
      for (let i = 0; i < 5; i++) expect((await api(ctx.bridge.url, '/tickets')).status).toBe(200);
      for (let i = 0; i < 3; i++)
        expect((await api(ctx.bridge.url, '/tickets', { token: `wrong-token-${i}-0123456789` })).status).toBe(
          401,
        );
      const limited = await fetch(`${ctx.bridge.url}/api/v1/tickets`, {
        headers: { authorization: `Bearer ${WRITE_TOKEN}` },
      });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('too_many_requests');
      // A person at the login form gets a page, not JSON.
      const page = await fetch(`${ctx.bridge.url}/ui/login`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(429);
      expect(await page.text()).toContain('Too many failed attempts from this address');
    } finally {
      await ctx.close();
    }
  });
});
