// The exporter-toolkit web config file (--web.config.file), read the way exporter-toolkit reads it
// (https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md and its
// web/tls_config.go): every key it knows is accepted with its default, every value it refuses is
// refused with its reason, and an unknown key is an error (yaml.UnmarshalStrict there). Where
// exporter-toolkit silently accepts a file that cannot work or protects nothing, this loader refuses it
// at start instead; each such case is marked "stricter than exporter-toolkit" and listed in
// docs/security.md.
import { readFileSync, statSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import { dirname, resolve } from 'node:path';
import { ConfigError, TOP_LEVEL, loadYamlFile, parseWith, type ConfigProblem } from '@tillwatch/config';
import { z } from 'zod';
import { crypto, tls } from './lazy-builtins.js';

/**
 * Go's `tls.CipherSuites()` (the names exporter-toolkit accepts) with their OpenSSL names. Written out
 * because no library maps IANA names to OpenSSL's; the TLS 1.3 suites are accepted and, as in Go, not
 * configurable (every TLS 1.3 suite stays on).
 */
const CIPHER_SUITES: Record<string, string | null> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_AES_128_GCM_SHA256: null,
  TLS_AES_256_GCM_SHA384: null,
  TLS_CHACHA20_POLY1305_SHA256: null,
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};
export const CIPHER_SUITE_NAMES = Object.keys(CIPHER_SUITES);
/** exporter-toolkit's curve names and OpenSSL's. */
const CURVES: Record<string, string> = {
  CurveP256: 'P-256',
  CurveP384: 'P-384',
  CurveP521: 'P-521',
  X25519: 'X25519',
};
const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
type TlsVersion = (typeof TLS_VERSIONS)[keyof typeof TLS_VERSIONS];
/** The client_auth_type values and the Go policy each stands for ("RequireClientCert" is an old alias). */
const CLIENT_AUTH = {
  '': 'NoClientCert',
  NoClientCert: 'NoClientCert',
  RequestClientCert: 'RequestClientCert',
  RequireAnyClientCert: 'RequireAnyClientCert',
  RequireClientCert: 'RequireAnyClientCert',
  VerifyClientCertIfGiven: 'VerifyClientCertIfGiven',
  RequireAndVerifyClientCert: 'RequireAndVerifyClientCert',
} as const;
export type ClientAuthType = (typeof CLIENT_AUTH)[keyof typeof CLIENT_AUTH];
/** The response headers exporter-toolkit lets a web config set, with the values it allows (null: any). */
const HEADERS: Record<string, string[] | null> = {
  'Strict-Transport-Security': null,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': null,
  'Content-Security-Policy': null,
};

const quoted = (v: unknown) => JSON.stringify(v);
/** A string from a closed list, refused with exporter-toolkit's words (`unknown cipher: X`). */
const oneOf = (values: readonly string[], what: string) =>
  z.string().refine((v) => values.includes(v), { error: (iss) => `${what}: ${String(iss.input)}` });

/**
 * Go's time.ParseDuration, which yaml.v2 applies to exporter-toolkit's `rate_limit.interval` (so `1.5s`
 * and `300ms` work, `1d` does not; an integer is nanoseconds). Returns milliseconds. Hand-written: the
 * grammar is one regular expression, and Prometheus' duration syntax (@tillwatch/config) differs.
 */
export function parseGoDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isInteger(input) ? input / 1e6 : undefined;
  const unitMs: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    μs: 1e-3,
    ms: 1,
    s: 1e3,
    m: 6e4,
    h: 36e5,
  };
  // The micro signs are escaped so the bundle stays ASCII: one non-Latin-1 character anywhere makes V8
  // hold the whole source of dist/cli.js as a two-byte string (docs/benchmarks.md, "Exporter").
  const m = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+|0)$/.exec(input);
  if (!m?.[2]) return undefined;
  let ms = 0;
  for (const part of m[2].matchAll(/(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g))
    ms += Number(part[1]) * (unitMs[part[2] ?? ''] ?? 0);
  return m[1] === '-' ? -ms : ms;
}

const goDuration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseGoDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `time: invalid duration ${quoted(String(v))}` });
    return z.NEVER;
  }
  return ms;
});

/** What exporter-toolkit's bcrypt.Cost check refuses, in its words. */
function bcryptProblem(hash: string): string | undefined {
  const m = /^\$2[aby]?\$(\d\d)\$[./A-Za-z0-9]{53}$/.exec(hash);
  if (!m) return 'expected a bcrypt hash ($2y$...)';
  const cost = Number(m[1]);
  return cost < 4 || cost > 31 ? `bcrypt cost ${cost} is outside allowed range (4,31)` : undefined;
}
const bcryptHash = z.string().superRefine((h, ctx) => {
  const problem = bcryptProblem(h);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

// A key written with no value (`tls_server_config:`) is YAML null, which Go reads as "not set".
const section = <T extends z.ZodType>(s: T) => s.nullish();

const schema = z.strictObject({
  tls_server_config: section(
    z.strictObject({
      cert: z.string().optional(),
      key: z.string().optional(),
      client_ca: z.string().optional(),
      cert_file: z.string().optional(),
      key_file: z.string().optional(),
      client_auth_type: oneOf(Object.keys(CLIENT_AUTH), 'invalid ClientAuth').optional(),
      client_ca_file: z.string().optional(),
      client_allowed_sans: z.array(z.string()).nullish(),
      min_version: oneOf(Object.keys(TLS_VERSIONS), 'unknown TLS version').default('TLS12'),
      max_version: oneOf(Object.keys(TLS_VERSIONS), 'unknown TLS version').default('TLS13'),
      cipher_suites: z.array(oneOf(CIPHER_SUITE_NAMES, 'unknown cipher')).nullish(),
      prefer_server_cipher_suites: z.boolean().default(true),
      curve_preferences: z.array(oneOf(Object.keys(CURVES), 'unknown curve')).nullish(),
    }),
  ),
  http_server_config: section(
    z.strictObject({
      // Accepted for compatibility; the exporter speaks HTTP/1.1 only (see docs/security.md).
      http2: z.boolean().default(true),
      headers: z.record(z.string(), z.string()).nullish(),
    }),
  ),
  rate_limit: section(
    z.strictObject({
      interval: goDuration.default(0),
      burst: z.int().default(0),
    }),
  ),
  basic_auth_users: z.record(z.string(), bcryptHash).nullish(),
});

export interface TlsSettings {
  /** What node:tls takes; rebuilt from the files on every reload. */
  context: SecureContextOptions & { minVersion: TlsVersion; maxVersion: TlsVersion };
  clientAuth: ClientAuthType;
  /** client_allowed_sans: a client certificate must carry one of these as a SAN, exactly. */
  allowedSans?: string[];
}

export interface WebConfig {
  tls?: TlsSettings;
  /** Response headers on every answer. */
  headers: Record<string, string>;
  /** basic_auth_users: user -> bcrypt hash. */
  users?: Map<string, string>;
  /** rate_limit: at most one request per `intervalMs` over the whole exporter, with this burst. */
  rateLimit?: { intervalMs: number; burst: number };
  /** The file this was read from and every file it names, watched for changes (certificate rotation). */
  source?: { file: string; files: string[] };
}

/** Reads an exporter-toolkit web config; paths inside it are relative to the file, as in exporter-toolkit. */
export function loadWebConfig(file: string): WebConfig {
  const raw = loadYamlFile(file) ?? {};
  const c = parseWith(schema, raw, file);
  const problems: ConfigProblem[] = [];
  const fail = (key: string, message: string) => problems.push({ key, message });
  const dir = dirname(resolve(file));
  const files = [resolve(file)];
  const readFile = (key: string, p: string): Buffer | undefined => {
    const path = resolve(dir, p);
    files.push(path);
    try {
      return readFileSync(path);
    } catch (err) {
      fail(key, `cannot read ${p}: ${(err as Error).message}`);
      return undefined;
    }
  };

  const out: WebConfig = { headers: {}, source: { file: resolve(file), files } };
  const t = c.tls_server_config;
  // exporter-toolkit's TLSConfig.IsEnabled: TLS is on when any of these is set.
  const enabled =
    !!t &&
    !!(t.cert_file || t.cert || t.key_file || t.key || t.client_ca_file || t.client_ca || t.client_auth_type);
  if (t && !enabled) {
    // Stricter than exporter-toolkit, which then serves plain HTTP and ignores these keys.
    const given = Object.keys((raw as { tls_server_config: object }).tls_server_config);
    if (given.length > 0)
      fail(
        'tls_server_config',
        `sets ${given.join(', ')} but no certificate: add cert_file and key_file, or remove tls_server_config`,
      );
  }
  if (t && enabled) {
    const both = (a: string, b: string) =>
      // Stricter than exporter-toolkit, where the file silently wins over the inline value.
      fail(`tls_server_config.${b}`, `set only one of ${a} and ${b}`);
    if (t.cert && t.cert_file) both('cert', 'cert_file');
    if (t.key && t.key_file) both('key', 'key_file');
    if (t.client_ca && t.client_ca_file) both('client_ca', 'client_ca_file');
    if (!t.cert && !t.cert_file) fail('tls_server_config.cert_file', 'missing one of cert or cert_file');
    if (!t.key && !t.key_file) fail('tls_server_config.key_file', 'missing one of key or key_file');
    const clientAuth = CLIENT_AUTH[(t.client_auth_type ?? '') as keyof typeof CLIENT_AUTH];
    const hasCa = !!(t.client_ca_file || t.client_ca);
    if (hasCa && clientAuth === 'NoClientCert')
      fail(
        'tls_server_config.client_auth_type',
        "client CA's have been configured without a Client Auth Policy",
      );
    // Stricter than exporter-toolkit, which then verifies against the system's public web CAs: a
    // certificate any public CA signed says nothing about who scrapes a till.
    if (!hasCa && (clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert'))
      fail(
        'tls_server_config.client_ca_file',
        'client_ca_file is required when client_auth_type verifies client certificates',
      );
    if (
      t.client_allowed_sans &&
      clientAuth !== 'RequireAnyClientCert' &&
      clientAuth !== 'RequireAndVerifyClientCert'
    )
      fail(
        'tls_server_config.client_allowed_sans',
        'client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert or RequireAndVerifyClientCert',
      );
    const minVersion = TLS_VERSIONS[t.min_version as keyof typeof TLS_VERSIONS];
    const maxVersion = TLS_VERSIONS[t.max_version as keyof typeof TLS_VERSIONS];
    // Stricter than exporter-toolkit, whose server would then fail every handshake.
    if (t.min_version > t.max_version)
      fail(
        'tls_server_config.min_version',
        `${t.min_version} is above max_version ${t.max_version}: no TLS version is left`,
      );

    // Files are read once the keys make sense, so a wrong key is not buried under missing files.
    const noFiles = problems.length > 0;
    const read = (k: string, p: string) => (noFiles ? undefined : readFile(k, p));
    const cert = t.cert_file ? read('tls_server_config.cert_file', t.cert_file) : Buffer.from(t.cert ?? '');
    const key = t.key_file ? read('tls_server_config.key_file', t.key_file) : Buffer.from(t.key ?? '');
    const ca = t.client_ca_file
      ? read('tls_server_config.client_ca_file', t.client_ca_file)
      : t.client_ca
        ? Buffer.from(t.client_ca)
        : undefined;
    if (ca) {
      try {
        new (crypto().X509Certificate)(ca);
      } catch {
        fail(
          `tls_server_config.${t.client_ca_file ? 'client_ca_file' : 'client_ca'}`,
          'no valid certificates in it (expected PEM)',
        );
      }
    }
    const ciphers = (t.cipher_suites ?? []).map((n) => CIPHER_SUITES[n]).filter((n): n is string => !!n);
    const context = {
      ...(cert?.length && { cert }),
      ...(key?.length && { key }),
      ...(ca && { ca }),
      minVersion,
      maxVersion,
      honorCipherOrder: t.prefer_server_cipher_suites,
      // Go keeps TLS 1.3's suites whatever cipher_suites says; OpenSSL's TLS 1.3 list is separate too.
      ...(ciphers.length > 0 && { ciphers: ciphers.join(':') }),
      ...(t.curve_preferences?.length && { ecdhCurve: t.curve_preferences.map((n) => CURVES[n]).join(':') }),
    };
    if (problems.length === 0) {
      // The real TLS stack checks the certificate, the key and that they belong together.
      try {
        tls().createSecureContext(context);
      } catch (err) {
        fail(
          `tls_server_config.${t.cert_file ? 'cert_file' : 'cert'}`,
          `failed to load X509KeyPair: ${(err as Error).message}`,
        );
      }
    }
    out.tls = {
      context,
      clientAuth,
      ...(t.client_allowed_sans && { allowedSans: t.client_allowed_sans }),
    };
  }

  for (const [name, value] of Object.entries(c.http_server_config?.headers ?? {})) {
    const allowed = HEADERS[name];
    if (allowed === undefined)
      fail(`http_server_config.headers.${name}`, `HTTP header ${quoted(name)} can not be configured`);
    else if (allowed && !allowed.includes(value))
      fail(
        `http_server_config.headers.${name}`,
        `invalid value for ${name}. Expected one of: [${allowed.map(quoted).join(' ')}], but got: ${quoted(value)}`,
      );
    // "Unset if blank", as exporter-toolkit documents.
    else if (value !== '') out.headers[name] = value;
  }

  const r = c.rate_limit;
  if (r && r.interval !== 0) {
    // Stricter than exporter-toolkit, whose limiter then refuses every request (burst 0) or none
    // (a negative interval).
    if (r.interval < 0) fail('rate_limit.interval', 'must not be negative (0 turns the rate limit off)');
    if (r.burst < 1)
      fail(
        'rate_limit.burst',
        'must be at least 1 when rate_limit.interval is set, or every request is refused',
      );
    out.rateLimit = { intervalMs: r.interval, burst: r.burst };
  }

  const users = Object.entries(c.basic_auth_users ?? {});
  if (users.length > 0) out.users = new Map(users);

  // exporter-toolkit serves plain HTTP to anyone for an empty file; a till exporter given a web
  // config meant to protect itself, so a file that protects nothing is a mistake (a failed template).
  if (!enabled && users.length === 0 && problems.length === 0)
    fail(
      TOP_LEVEL,
      'sets neither tls_server_config nor basic_auth_users, so anyone could read the exporter over plain HTTP; configure one of them, or drop --web.config.file',
    );
  if (problems.length > 0) throw new ConfigError(file, problems);
  return out;
}

/** A fingerprint of the files a web config was read from: it changes when any of them is replaced. */
export function webConfigStamp(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}
