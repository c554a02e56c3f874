import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

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
      'webhook: needs bearer_token or basic_auth: an open webhook would let anyone create tickets',
    ],
    ['an unknown key', 'webhook: { bearer_token: a }\nstorrage: {}\n', '(root): unknown key(s) storrage'],
    [
      'a bad duration',
      'webhook: { bearer_token: a }\ntickets: { reopen_window: soon }\n',
      'tickets.reopen_window: must be a duration like 500ms, 30s, 15m, 4h or 2d',
    ],
    [
      'a bad locale',
      'webhook: { bearer_token: a }\nlocale: de\n',
      'locale: Invalid option: expected one of "ru"|"en"',
    ],
    [
      'a bad storage driver',
      'webhook: { bearer_token: a }\nstorage: { driver: mysql }\n',
      "storage.driver: Invalid discriminator value. Expected 'sqlite' | 'postgres'",
    ],
    [
      'a missing env var',
      'webhook: { bearer_token: "${NOPE_NOT_SET}" }\n',
      'webhook.bearer_token: environment variable NOPE_NOT_SET is not set',
    ],
    [
      'a Redmine API key Redmine would never accept',
      'webhook: { bearer_token: a }\nforwarding: { targets: [{ name: rm, type: redmine, url: "http://127.0.0.1:3000", api_key: my-key, project_id: tills }] }\n',
      'forwarding.targets.0.api_key: a Redmine API key is letters and digits only (My account → API access key)',
    ],
    ['bad YAML', 'webhook: [\n', 'invalid YAML'],
  ];
  it.each(cases)('rejects %s naming file and key', (_n, yaml, msg) => {
    const f = write(yaml);
    expect(() => loadConfig(f, {})).toThrow(`${f}: `);
    expect(() => loadConfig(f, {})).toThrow(msg);
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
  });
});
