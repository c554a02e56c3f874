import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import { ConfigError, loadConfig, parseConfig } from './config.js';
import { KnowledgeBase } from './knowledge-base.js';
import { CARDS_DIR, WEBHOOK_TOKEN, paperOut, payload, postWebhook } from '@tillwatch/testkit/bridge';

function problems(file: string): string {
  try {
    loadConfig(file, {});
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`${file} loaded without an error`);
}

function write(yaml: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'tw-cfg-')), 'bridge.yml');
  writeFileSync(f, yaml);
  return f;
}

describe('config', () => {
  it('fills defaults from a minimal file', () => {
    const c = loadConfig(write('webhook: { bearer_token: abc }\n'));
    expect(c.listen).toBe('127.0.0.1:9836');
    expect(c.storage).toEqual({ driver: 'sqlite', path: 'tillwatch-bridge.db', synchronous: 'full' });
    expect(c.locale).toBe('ru');
    expect(c.tickets.reopen_window).toBe(3_600_000);
    expect(c.sla.P1.reaction).toBe(15 * 60_000);
  });

  it('takes tokens from the environment and never prints them', () => {
    const c = loadConfig(
      write(
        'webhook: { bearer_token: "${HOOK}" }\napi: { tokens: [{ name: a, token: "${API}", scope: read }] }\n',
      ),
      {
        HOOK: 'h-123',
        API: 'a-456-0123456789abcdef',
      },
    );
    expect(c.webhook.bearer_token?.reveal()).toBe('h-123');
    const printed = JSON.stringify(c) + inspect(c, { depth: 10 });
    expect(printed).not.toContain('h-123');
    expect(printed).not.toContain('a-456-0123456789abcdef');
    expect(printed).toContain('<secret>');
  });

  // One invalid fixture per rule, each with the exact message it must produce (blackbox_exporter habit).
  const cases: [string, string, string][] = [
    [
      'no webhook auth',
      'listen: "127.0.0.1:1"\nwebhook: {}\n',
      ': webhook: needs bearer_token or basic_auth: an open webhook would let anyone create tickets',
    ],
    ['an unknown key', 'webhook: { bearer_token: a }\nstorrage: {}\n', ': storrage: unknown key'],
    [
      'a bad duration',
      'webhook: { bearer_token: a }\ntickets: { reopen_window: soon }\n',
      ': tickets.reopen_window: invalid duration "soon": expected a Prometheus duration such as "1h30m", "15s" or "500ms" (whole numbers; units y, w, d, h, m, s, ms, largest first)',
    ],
    [
      'a bad locale',
      'webhook: { bearer_token: a }\nlocale: de\n',
      ': locale: Invalid option: expected one of "ru"|"en"',
    ],
    [
      'a bad storage driver',
      'webhook: { bearer_token: a }\nstorage: { driver: mysql }\n',
      ": storage.driver: Invalid discriminator value. Expected 'sqlite' | 'postgres'",
    ],
    [
      'a missing env var',
      'webhook: { bearer_token: "${NOPE_NOT_SET}" }\n',
      ': webhook.bearer_token: environment variable NOPE_NOT_SET is not set',
    ],
    [
      'a Redmine API key Redmine would never accept',
      'webhook: { bearer_token: a }\nforwarding: { targets: [{ name: rm, type: redmine, url: "http://127.0.0.1:3000", api_key: my-key, project_id: tills }] }\n',
      ': forwarding.targets[0].api_key: a Redmine API key is letters and digits only (My account → API access key)',
    ],
    [
      'bad YAML',
      'webhook: [\n',
      ':2:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    [
      'a duplicate key',
      'webhook: { bearer_token: a }\nwebhook: { bearer_token: b }\n',
      ':2:1: invalid YAML: Map keys must be unique',
    ],
    [
      'a max_body Express would read as one byte',
      'webhook: { bearer_token: a, max_body: 1M }\n',
      ': webhook.max_body: size "1M" is ambiguous (1000000 or 1048576 bytes?): write "1MiB" or 1000000',
    ],
    [
      'a max_body Express would read as 512 bytes',
      'webhook: { bearer_token: a, max_body: 512k }\n',
      ': webhook.max_body: size "512k" is ambiguous (512000 or 524288 bytes?): write "512KiB" or 512000',
    ],
    [
      'a quoted max_body in exponent notation',
      'webhook: { bearer_token: a, max_body: "1e6" }\n',
      ': webhook.max_body: invalid size "1e6": expected a whole number of bytes (e.g. 1048576) or a whole number with B, KiB, MiB, GiB or TiB (e.g. "512KiB", "1MiB")',
    ],
    [
      'Telegram buttons without a key to sign them',
      'webhook: { bearer_token: a }\ntelegram: { bot_token: "1:x", updates: poll }\n',
      ": telegram.callback_key: required when telegram.updates is poll (it signs the buttons' callback data)",
    ],
    [
      'a short callback key',
      'webhook: { bearer_token: a }\ntelegram: { bot_token: "1:x", updates: poll, callback_key: short }\n',
      ': telegram.callback_key: must be at least 32 characters (e.g. openssl rand -hex 16)',
    ],
    [
      'an SLA policy naming an unknown calendar',
      'webhook: { bearer_token: a }\nsla: { policies: [{ chain: x5, calendar: offfice }] }\n',
      ': sla.policies[0].calendar: unknown calendar "offfice": use "24/7" or a name under sla.calendars',
    ],
    [
      'business hours that end before they start',
      'webhook: { bearer_token: a }\nsla: { calendars: { office: { timezone: Europe/Moscow, hours: { mon: ["18:00-09:00"] } } } }\n',
      ': sla.calendars.office.hours.mon[0]: "18:00-09:00" is not a range within one day (start before end, 00:00 to 24:00)',
    ],
    [
      'a calendar in no time zone',
      'webhook: { bearer_token: a }\nsla: { calendars: { office: { timezone: Moscow, hours: { mon: ["09:00-18:00"] } } } }\n',
      ': sla.calendars.office.timezone: must be an IANA time zone such as Europe/Moscow or Asia/Yekaterinburg',
    ],
    [
      'a calendar that never opens',
      'webhook: { bearer_token: a }\nsla: { calendars: { office: { timezone: Europe/Moscow } } }\n',
      ': sla.calendars.office: has no working hours on any weekday: its deadlines would never come',
    ],
    [
      'an escalation to a webhook that is not configured',
      'webhook: { bearer_token: a }\nescalation: { policies: [{ repeat: 10m, levels: [{ name: lead, after: 15m, webhook: [duty] }] }] }\n',
      ': escalation.policies[0].levels[0].webhook[0]: "duty" is not a forwarding target of type webhook',
    ],
    [
      'an escalation to a Telegram chat without the bot',
      'webhook: { bearer_token: a }\nescalation: { policies: [{ repeat: 10m, levels: [{ name: lead, after: 15m, telegram: [{ chat_id: -100 }] }] }] }\n',
      ': escalation.policies[0].levels[0].telegram: needs the telegram section (the bot)',
    ],
    [
      'a Telegram webhook without its secret',
      `webhook: { bearer_token: a }\ntelegram: { bot_token: "1:x", updates: webhook, callback_key: ${'k'.repeat(32)} }\n`,
      ': telegram.webhook_secret: required when telegram.updates is webhook (Telegram sends it with every update)',
    ],
    [
      'a webhook secret Telegram would refuse',
      'webhook: { bearer_token: a }\ntelegram: { bot_token: "1:x", webhook_secret: "not allowed!0123456789" }\n',
      `: telegram.webhook_secret: must be 16-256 letters, digits, "_" or "-" (Telegram's secret_token)`,
    ],
    [
      'an unknown way of getting updates',
      'webhook: { bearer_token: a }\ntelegram: { bot_token: "1:x", updates: push }\n',
      ': telegram.updates: Invalid option: expected one of "off"|"poll"|"webhook"',
    ],
    [
      'a long-poll timeout Telegram does not allow',
      'webhook: { bearer_token: a }\ntelegram: { bot_token: "1:x", poll_timeout: 2m }\n',
      ': telegram.poll_timeout: must be between 0s and 50s',
    ],
    [
      'one Telegram account for two users',
      'webhook: { bearer_token: a }\nauth: { users: [{ name: a, role: operator, telegram_id: 5 }, { name: b, role: viewer, telegram_id: 5 }] }\n',
      ": auth.users[1].telegram_id: 5 is already a's: a Telegram account acts as one user",
    ],
    [
      "a desk's inbound secret too short to sign with",
      'webhook: { bearer_token: a }\nforwarding: { targets: [{ name: sd, type: webhook, url: "http://127.0.0.1:8080/hook", inbound: { secret: short } }] }\n',
      ': forwarding.targets[0].inbound.secret: must be at least 32 characters (e.g. openssl rand -hex 32)',
    ],
    [
      "a desk's replay window longer than an hour",
      `webhook: { bearer_token: a }\nforwarding: { targets: [{ name: sd, type: webhook, url: "http://127.0.0.1:8080/hook", inbound: { secret: ${'s'.repeat(32)}, max_skew: 2h } }] }\n`,
      ': forwarding.targets[0].inbound.max_skew: must be between 1ms and 1h',
    ],
    [
      'two forwarding targets of one name',
      'webhook: { bearer_token: a }\nforwarding: { targets: [{ name: sd, type: webhook, url: "http://127.0.0.1:8080/a" }, { name: sd, type: redmine, url: "http://127.0.0.1:3000", api_key: abc, project_id: tills }] }\n',
      ': forwarding.targets[1].name: "sd" is already another target\'s name',
    ],
    [
      'a desk named as a person (its changes would read as theirs)',
      `webhook: { bearer_token: a }\nauth: { users: [{ name: petrov, role: operator }] }\nforwarding: { targets: [{ name: petrov, type: webhook, url: "http://127.0.0.1:8080/hook", inbound: { secret: ${'s'.repeat(32)} } }] }\n`,
      ": forwarding.targets[0].name: \"petrov\" is also a user's or token's name: a desk's changes would read as that person's",
    ],
    [
      'a Redmine poll faster than 100ms',
      'webhook: { bearer_token: a }\nforwarding: { targets: [{ name: rm, type: redmine, url: "http://127.0.0.1:3000", api_key: abc, project_id: tills, sync: { poll_interval: 10ms } }] }\n',
      ': forwarding.targets[0].sync.poll_interval: must be at least 100ms',
    ],
    [
      'a Redmine sync with no resolving status',
      'webhook: { bearer_token: a }\nforwarding: { targets: [{ name: rm, type: redmine, url: "http://127.0.0.1:3000", api_key: abc, project_id: tills, sync: { resolve_status_ids: [] } }] }\n',
      ': forwarding.targets[0].sync.resolve_status_ids: Too small: expected array to have >=1 items',
    ],
    [
      'an RT target with both a token and a password',
      `webhook: { bearer_token: a }\nforwarding: { targets: [{ name: rt, type: rt, url: "http://127.0.0.1:8080", user: tillwatch, token: 1-2-${'a'.repeat(32)}, password: secret, queue: Tills }] }\n`,
      ": forwarding.targets[0].token: give exactly one of token or password (the RT user's auth token is the better one)",
    ],
    [
      'an RT token RT never issues',
      'webhook: { bearer_token: a }\nforwarding: { targets: [{ name: rt, type: rt, url: "http://127.0.0.1:8080", user: tillwatch, token: abc, queue: Tills }] }\n',
      ': forwarding.targets[0].token: an RT auth token looks like 1-23-0123456789abcdef0123456789abcdef',
    ],
    [
      'an RT sync with no resolving status',
      'webhook: { bearer_token: a }\nforwarding: { targets: [{ name: rt, type: rt, url: "http://127.0.0.1:8080", user: tillwatch, password: p, queue: Tills, sync: { resolve_statuses: [] } }] }\n',
      ': forwarding.targets[0].sync.resolve_statuses: Too small: expected array to have >=1 items',
    ],
  ];
  it.each(cases)('rejects %s naming file and key', (_n, yaml, msg) => {
    const f = write(yaml);
    expect(problems(f)).toBe(`${f}${msg}`);
  });

  it('reports every problem at once, one line each', () => {
    const f = write(
      'webhook: { bearer_token: a }\ntickets: { reopen_window: soon, flap_window: 6 }\nlocal: ru\n',
    );
    expect(problems(f).split('\n')).toEqual([
      expect.stringMatching(`^${f}: tickets.reopen_window: invalid duration "soon": `),
      expect.stringMatching(`^${f}: tickets.flap_window: 6 has no unit: `),
      `${f}: local: unknown key`,
    ]);
  });

  it('reads every duration in Prometheus grammar', () => {
    const c = loadConfig(
      write(
        'webhook: { bearer_token: a }\ntickets: { reopen_window: 1h30m, flap_window: 1w }\nforwarding: { retention: 1y, poll_interval: 500ms }\n',
      ),
      {},
    );
    expect(c.tickets.reopen_window).toBe(90 * 60_000);
    expect(c.tickets.flap_window).toBe(7 * 86_400_000);
    expect(c.forwarding.retention).toBe(365 * 86_400_000);
    expect(c.forwarding.poll_interval).toBe(500);
  });

  it('names the file when it cannot be read', () => {
    expect(() => loadConfig('/nonexistent/bridge.yml')).toThrow('/nonexistent/bridge.yml: cannot read');
  });

  it('the shipped example config is valid', () => {
    const c = loadConfig(new URL('../examples/config.yml', import.meta.url).pathname, {
      TILLWATCH_WEBHOOK_TOKEN: 'w',
      TILLWATCH_API_TOKEN: 'a-token-of-16-chars-or-more',
    });
    expect(c.storage.driver).toBe('sqlite');
    expect(c.knowledge_base).toBe(new URL('../knowledge-base', import.meta.url).pathname);
    expect(c.sla.calendars.office?.hours.fri).toEqual([[540, 1080]]);
    expect(c.sla.policies[0]).toMatchObject({ chain: 'example-chain', calendar: 'office' });
  });
});

// Issue 23: Express's size parser read `max_body: 1M` (and 1MiB, 512k, 1e6) as 1 or 512 bytes, so every
// alert got 413 and Alertmanager dropped it for good. Each accepted spelling must mean its bytes exactly.
describe('webhook.max_body on a running bridge', () => {
  it.each([
    ['1MiB', 1_048_576],
    ['1048576', 1_048_576],
    ['1e6', 1_000_000],
    ['512KiB', 524_288],
  ])(
    'max_body: %s takes a body of exactly %d bytes and answers 413 to one byte more',
    async (literal, bytes) => {
      const dir = mkdtempSync(join(tmpdir(), 'tw-cfg-'));
      const file = join(dir, 'bridge.yml');
      writeFileSync(
        file,
        [
          'listen: 127.0.0.1:0',
          'log_level: silent',
          `storage: { driver: sqlite, path: ${join(dir, 'bridge.db')} }`,
          `webhook: { bearer_token: ${WEBHOOK_TOKEN}, max_body: ${literal} }`,
        ].join('\n'),
      );
      const config = loadConfig(file, {});
      expect(config.webhook.max_body).toBe(bytes);
      const bridge = await createApp(config, {
        logger: pino({ level: 'silent' }),
        kb: KnowledgeBase.load(CARDS_DIR),
        background: false,
      });
      try {
        await bridge.start('127.0.0.1:0');
        // An ordinary alert padded with JSON whitespace to the exact size: only the size differs.
        const sized = (n: number) => {
          const json = JSON.stringify(payload([paperOut('t1', 's1')]));
          return json + ' '.repeat(n - Buffer.byteLength(json));
        };
        expect((await postWebhook(bridge.url, sized(bytes))).status).toBe(200);
        const over = await postWebhook(bridge.url, sized(bytes + 1));
        expect(over.status).toBe(413);
        expect(over.body.error?.code).toBe('payload_too_large');
      } finally {
        await bridge.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('remediation config', () => {
  const bad = (remediation: unknown) => {
    try {
      parseConfig({ webhook: { bearer_token: 'x' }, remediation }, 'bridge.yml');
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('accepted');
  };
  it('refuses fiscal policies, short secrets and twice-enrolled tills, naming file and key', () => {
    expect(bad({ policies: { 'fiscal.shift_24h': { action: 'restart_utm' } } })).toBe(
      'bridge.yml: remediation.policies.fiscal.shift_24h: fiscal incidents are never remediated automatically (docs/security.md, "Remote actions")',
    );
    expect(bad({ policies: { 'egais.utm_down': { action: 'close_shift' } } })).toContain(
      'remediation.policies.egais.utm_down.action: close_shift looks like a fiscal action',
    );
    expect(bad({ tills: [{ id: 'c1/s1/t1', secret: 'short' }] })).toContain(
      'remediation.tills[0].secret: must be at least 32',
    );
    const s = 'x'.repeat(40);
    expect(
      bad({
        tills: [
          { id: 'c1/s1/t1', secret: s },
          { id: 'c1/s1/t1', secret: s },
        ],
      }),
    ).toContain('remediation.tills[1].id: c1/s1/t1 is enrolled twice');
    expect(bad({ tills: [{ id: 'c1-s1-t1', secret: s }] })).toContain(
      'remediation.tills[0].id: expected chain/store/till',
    );
  });
});
