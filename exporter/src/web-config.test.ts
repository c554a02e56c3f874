// The web config read key by key as exporter-toolkit reads it: one fixture per rule, each mapped to
// the exact error it must produce (testdata/web-config/bad), and files that must load (…/good).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getCiphers } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tillwatch/config';
import { CIPHER_SUITE_NAMES, loadWebConfig, parseGoDuration } from './web-config.js';

const dir = fileURLToPath(new URL('./testdata/web-config/', import.meta.url));
const tlsDir = fileURLToPath(new URL('./testdata/tls/', import.meta.url));

/** Each bad fixture and the problem it must be refused with (key, message). */
const BAD: Record<string, [string, string | RegExp]> = {
  'unknown-top-level-key': ['tls_config', 'unknown key'],
  'unknown-tls-key': ['tls_server_config.ciphers', 'unknown key'],
  'unknown-http-key': ['http_server_config.header', 'unknown key'],
  'unknown-rate-limit-key': ['rate_limit.rate', 'unknown key'],
  'unknown-cipher': ['tls_server_config.cipher_suites[0]', 'unknown cipher: TLS_RSA_WITH_RC4_128_SHA'],
  'unknown-curve': ['tls_server_config.curve_preferences[0]', 'unknown curve: CurveP224'],
  'unknown-tls-version': ['tls_server_config.min_version', 'unknown TLS version: TLS14'],
  'min-above-max': [
    'tls_server_config.min_version',
    'TLS13 is above max_version TLS12: no TLS version is left',
  ],
  'invalid-client-auth': ['tls_server_config.client_auth_type', 'invalid ClientAuth: Required'],
  'client-ca-without-policy': [
    'tls_server_config.client_auth_type',
    "client CA's have been configured without a Client Auth Policy",
  ],
  'verify-without-ca': [
    'tls_server_config.client_ca_file',
    'client_ca_file is required when client_auth_type verifies client certificates',
  ],
  'sans-without-required-cert': [
    'tls_server_config.client_allowed_sans',
    'client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert or RequireAndVerifyClientCert',
  ],
  'cert-missing': ['tls_server_config.cert_file', 'missing one of cert or cert_file'],
  'key-missing': ['tls_server_config.key_file', 'missing one of key or key_file'],
  'cert-and-cert-file': ['tls_server_config.cert_file', 'set only one of cert and cert_file'],
  'cert-file-unreadable': ['tls_server_config.cert_file', /^cannot read missing.crt: ENOENT/],
  'key-not-matching': ['tls_server_config.cert_file', /^failed to load X509KeyPair: /],
  'client-ca-not-pem': ['tls_server_config.client_ca_file', 'no valid certificates in it (expected PEM)'],
  'tls-options-without-cert': [
    'tls_server_config',
    'sets min_version but no certificate: add cert_file and key_file, or remove tls_server_config',
  ],
  'header-not-allowed': ['http_server_config.headers.Server', 'HTTP header "Server" can not be configured'],
  'header-bad-frame-options': [
    'http_server_config.headers.X-Frame-Options',
    'invalid value for X-Frame-Options. Expected one of: ["deny" "sameorigin"], but got: "allow"',
  ],
  'header-bad-content-type-options': [
    'http_server_config.headers.X-Content-Type-Options',
    'invalid value for X-Content-Type-Options. Expected one of: ["nosniff"], but got: "sniff"',
  ],
  'http2-not-bool': ['http_server_config.http2', /expected boolean/],
  'rate-limit-bad-interval': ['rate_limit.interval', 'time: invalid duration "1d"'],
  'rate-limit-no-burst': [
    'rate_limit.burst',
    'must be at least 1 when rate_limit.interval is set, or every request is refused',
  ],
  'rate-limit-negative': ['rate_limit.interval', 'must not be negative (0 turns the rate limit off)'],
  'rate-limit-burst-not-int': ['rate_limit.burst', /expected int/],
  'user-not-bcrypt': ['basic_auth_users.prometheus', 'expected a bcrypt hash ($2y$...)'],
  'user-bcrypt-cost-too-high': [
    'basic_auth_users.prometheus',
    'bcrypt cost 45 is outside allowed range (4,31)',
  ],
  'protects-nothing': [
    '(top level)',
    'sets neither tls_server_config nor basic_auth_users, so anyone could read the exporter over plain HTTP; configure one of them, or drop --web.config.file',
  ],
};

describe('web config, key by key as exporter-toolkit reads it', () => {
  it('has one bad fixture per rule, and a rule for every fixture', () => {
    expect(
      readdirSync(join(dir, 'bad'))
        .map((f) => f.replace(/\.yml$/, ''))
        .sort(),
    ).toEqual(Object.keys(BAD).sort());
  });

  for (const [name, [key, message]] of Object.entries(BAD)) {
    it(`refuses ${name}: ${key}`, () => {
      const file = join(dir, 'bad', `${name}.yml`);
      let error: unknown;
      try {
        loadWebConfig(file);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]?.key).toBe(key);
      if (typeof message === 'string') expect(problems[0]?.message).toBe(message);
      else expect(problems[0]?.message).toMatch(message);
      expect((error as Error).message.startsWith(`${file}: ${key}: `)).toBe(true);
    });
  }

  for (const f of readdirSync(join(dir, 'good'))) {
    it(`accepts ${f}`, () => {
      expect(() => loadWebConfig(join(dir, 'good', f))).not.toThrow();
    });
  }

  it('reads every key of a full file into what the server applies, with upstream defaults elsewhere', () => {
    const c = loadWebConfig(join(dir, 'good', 'every-key.yml'));
    expect(c.tls?.clientAuth).toBe('RequireAndVerifyClientCert');
    expect(c.tls?.allowedSans).toEqual(['prometheus.monitoring', '127.0.0.1']);
    const { cert, key, ca, ...rest } = c.tls!.context;
    expect([cert, key, ca].every(Buffer.isBuffer)).toBe(true);
    expect(rest).toEqual({
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      honorCipherOrder: false,
      // The TLS 1.3 suite has no OpenSSL TLS 1.2 name and stays on, as in Go.
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305',
      ecdhCurve: 'X25519:P-256:P-384:P-521',
    });
    expect(c.headers).toEqual({
      'Content-Security-Policy': "default-src 'none'",
      'X-Frame-Options': 'deny',
      'X-Content-Type-Options': 'nosniff',
      'X-XSS-Protection': '1; mode=block',
      'Strict-Transport-Security': 'max-age=31536000',
    });
    expect(c.rateLimit).toEqual({ intervalMs: 1500, burst: 10 });
    expect(c.users?.get('prometheus')).toMatch(/^\$2y\$10\$/);
    // The watched files: the config and the three it names.
    expect(c.source?.files).toHaveLength(4);

    const d = loadWebConfig(join(dir, 'good', 'tls-only.yml'));
    expect(d.tls?.clientAuth).toBe('NoClientCert');
    expect(d.tls?.context).toMatchObject({
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      honorCipherOrder: true,
    });
    expect(loadWebConfig(join(dir, 'good', 'client-auth-legacy-alias.yml')).tls?.clientAuth).toBe(
      'RequireAnyClientCert',
    );
    expect(loadWebConfig(join(dir, 'good', 'rate-limit-off.yml')).rateLimit).toBeUndefined();
  });

  it('takes the certificate and key inline (cert, key) as well as from files', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'tw-webcfg-inline-'));
    try {
      const indent = (f: string) => readFileSync(join(tlsDir, f), 'utf8').trim().replace(/\n/g, '\n    ');
      const file = join(tmp, 'web.yml');
      writeFileSync(
        file,
        `tls_server_config:\n  cert: |\n    ${indent('server.crt')}\n  key: |\n    ${indent('server.key')}\n`,
      );
      const c = loadWebConfig(file);
      expect(c.tls?.context.cert?.toString()).toContain('BEGIN CERTIFICATE');
      expect(c.source?.files).toEqual([file]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("maps every cipher suite name Go accepts to one this Node's OpenSSL has", () => {
    const available = new Set(getCiphers().map((c) => c.toUpperCase()));
    const tmp = mkdtempSync(join(tmpdir(), 'tw-webcfg-ciphers-'));
    try {
      const file = join(tmp, 'web.yml');
      writeFileSync(
        file,
        `tls_server_config:\n  cert_file: ${join(tlsDir, 'server.crt')}\n  key_file: ${join(tlsDir, 'server.key')}\n  cipher_suites: [${CIPHER_SUITE_NAMES.join(', ')}]\n`,
      );
      const ciphers = loadWebConfig(file).tls?.context.ciphers?.split(':') ?? [];
      expect(ciphers).toHaveLength(14);
      for (const c of ciphers) expect(available, c).toContain(c);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("reads rate_limit.interval in Go's duration syntax", () => {
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('300ms')).toBe(300);
    expect(parseGoDuration('250us')).toBe(0.25);
    // Go accepts both micro signs (U+00B5 and the Greek U+03BC); the source spells them as escapes.
    expect(parseGoDuration('250\u00b5s')).toBe(0.25);
    expect(parseGoDuration('1ms500\u03bcs')).toBe(1.5);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration(2_000_000_000)).toBe(2000);
    for (const bad of ['1d', '5', '', 's', '1.2.3s']) expect(parseGoDuration(bad), bad).toBeUndefined();
  });
});
