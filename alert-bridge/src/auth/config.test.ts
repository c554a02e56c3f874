import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';

function write(yaml: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'tw-auth-')), 'bridge.yml');
  writeFileSync(f, `webhook: { bearer_token: hook }\n${yaml}`);
  return f;
}

const KEY = 'k'.repeat(32);

describe('auth config', () => {
  // One invalid fixture per rule, with the exact message it must produce.
  const cases: [string, string, string][] = [
    [
      'a 1-character API token',
      'api: { tokens: [{ name: a, token: x, scope: read }] }\n',
      'api.tokens[0].token: a token must be at least 16 characters (e.g. openssl rand -hex 16)',
    ],
    [
      "a token of a user who doesn't exist",
      'api: { tokens: [{ name: a, token: aaaaaaaaaaaaaaaa, scope: read, user: bob }] }\n',
      'api.tokens[0].user: no user "bob" in auth.users',
    ],
    [
      'a user token with its own chains',
      `auth: { users: [{ name: bob, role: viewer }] }\napi: { tokens: [{ name: a, token: aaaaaaaaaaaaaaaa, scope: read, user: bob, chains: [c1] }] }\n`,
      "api.tokens[0]: a user's token takes the user's chains: give user or chains, not both",
    ],
    [
      'logins without a session key',
      'auth: { users: [{ name: bob, role: viewer, password: bob-password }] }\n',
      'auth.session.key: required when users log in or a proxy names them',
    ],
    [
      'a short session key',
      'auth: { session: { key: short } }\n',
      'auth.session.key: a session key must be at least 32 characters',
    ],
    [
      'a short link key',
      'auth: { links: { key: short } }\n',
      'auth.links.key: a link key must be at least 32 characters',
    ],
    [
      'an unknown role',
      'auth: { users: [{ name: bob, role: boss }] }\n',
      'auth.users[0].role: Invalid option: expected one of "viewer"|"operator"|"admin"',
    ],
    [
      'a user listed twice',
      `auth: { users: [{ name: bob, role: viewer }, { name: bob, role: admin }] }\n`,
      'auth.users[1].name: "bob" is listed twice',
    ],
    [
      'a proxy address that is not an address',
      `auth: { session: { key: ${KEY} }, proxy: { header: X-User, from: [proxy.local] } }\n`,
      'auth.proxy.from[0]: "proxy.local" is not an IP address or CIDR range',
    ],
    [
      'a password hash that is not bcrypt',
      'auth: { users: [{ name: bob, role: viewer, password_hash: "md5:abc" }] }\n',
      'auth.users[0].password_hash: must be a bcrypt hash ($2b$...)',
    ],
  ];
  it.each(cases)('rejects %s naming file and key', (_n, yaml, msg) => {
    const f = write(yaml);
    expect(() => loadConfig(f, {})).toThrow(`${f}: ${msg}`);
  });

  it('hashes a password given in the environment and never prints it or its hash', async () => {
    const c = loadConfig(
      write(
        `auth: { session: { key: "\${KEY}" }, users: [{ name: bob, role: operator, password: "\${PW}", telegram_id: 77 }] }\n`,
      ),
      { KEY, PW: 'bob-password-1' },
    );
    const bob = c.auth.users[0]!;
    expect(await bcrypt.compare('bob-password-1', bob.password_hash!.reveal())).toBe(true);
    const printed = JSON.stringify(c) + inspect(c, { depth: 10 });
    expect(printed).not.toContain('bob-password-1');
    expect(printed).not.toContain(bob.password_hash!.reveal());
    expect(printed).not.toContain(KEY);
    expect(bob).toMatchObject({ name: 'bob', role: 'operator', chains: null, telegram_id: 77 });
  });

  it('keeps configs without auth starting as before (tokens only, no logins)', () => {
    const c = loadConfig(write('api: { tokens: [{ name: op, token: aaaaaaaaaaaaaaaa, scope: write }] }\n'));
    expect(c.auth.users).toEqual([]);
    expect(c.auth.session.key).toBeUndefined();
    expect(c.auth.failures).toEqual({ limit: 10, window: 300_000 });
  });
});
