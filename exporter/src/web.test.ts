import { execFileSync, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { X509Certificate } from 'node:crypto';
import { hashSync, verify } from '@node-rs/bcrypt';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.js';
import { createExporter, type Exporter } from './exporter.js';
import { certificateSans, loadWebConfig, parseListenAddress, startWebServer, type WebServer } from './web.js';
import './collectors/index.js';
import { closedPort, selfSignedCert, seriesValue, signedCert } from '@tillwatch/testkit';
import { fixtureSystemInfo } from './testdata/fixture-env.js';
import type { AuthLimits } from './web-auth.js';

const config = parseConfig({ identity: { chain: 'demo', region: '77', store: '0001', till: '01' } });
const quiet = pino({ level: 'silent' });

function get(
  url: string,
  opts: {
    ca?: Buffer;
    auth?: string;
    headers?: Record<string, string>;
    cert?: Buffer;
    key?: Buffer;
  } = {},
): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(
      url,
      {
        agent: false,
        ...(opts.ca && { ca: opts.ca }),
        ...(opts.cert && { cert: opts.cert }),
        ...(opts.key && { key: opts.key }),
        headers: {
          ...(opts.auth && { Authorization: `Basic ${Buffer.from(opts.auth).toString('base64')}` }),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('web config: TLS and basic auth', () => {
  let dir: string;
  let ex: Exporter;
  let web: WebServer;
  let ca: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-web-'));
    // A fresh self-signed certificate, as an installer would generate for a till.
    selfSignedCert(dir, 'till', '/CN=till-0001-01', 'IP:127.0.0.1');
    ca = readFileSync(join(dir, 'till.crt'));
    // exporter-toolkit files carry $2y$ hashes (htpasswd -B); bcrypt libraries write $2b$, the same algorithm.
    const hash = hashSync('s3cret', 4).replace(/^\$2b\$/, '$2y$');
    writeFileSync(
      join(dir, 'web.yml'),
      `tls_server_config:\n  cert_file: till.crt\n  key_file: till.key\nbasic_auth_users:\n  prometheus: '${hash}'\n`,
    );
    ex = createExporter(config, { logger: quiet, systemInfo: fixtureSystemInfo });
    await ex.start();
    web = await startWebServer(ex, '127.0.0.1:0', loadWebConfig(join(dir, 'web.yml')), { logger: quiet });
  });
  afterAll(async () => {
    await web?.close();
    await ex?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves /metrics over TLS to the right user', async () => {
    const res = await get(web.url('/metrics'), { ca, auth: 'prometheus:s3cret' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(res.body.toString()).toContain('till_info{identity_chain="demo"');
    // The Date header (written by web.ts, not Node.js: utc-time.ts) in RFC 9110's one format.
    expect(res.headers.date).toMatch(
      /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/,
    );
  });

  it('answers 401 with a Basic challenge to a wrong password, an unknown user or no credentials', async () => {
    for (const auth of ['prometheus:wrong', 'root:s3cret', undefined]) {
      const res = await get(web.url('/metrics'), { ca, ...(auth && { auth }) });
      expect(res.status, String(auth)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="tillwatch"');
      expect(res.body.toString()).not.toContain('till_');
    }
  });

  it('takes the Basic scheme name in any case (RFC 7617)', async () => {
    const token = Buffer.from('prometheus:s3cret').toString('base64');
    for (const scheme of ['basic', 'BASIC', 'bAsIc']) {
      const res = await get(web.url('/metrics'), { ca, headers: { Authorization: `${scheme} ${token}` } });
      expect(res.status, scheme).toBe(200);
    }
  });

  it('rejects a client that does not trust the certificate', async () => {
    await expect(get(web.url('/metrics'), { auth: 'prometheus:s3cret' })).rejects.toThrow(/self.signed/i);
  });

  it('serves the landing page linking /metrics and /healthz, a health check, gzip, and 404', async () => {
    const auth = 'prometheus:s3cret';
    const landing = await get(web.url('/'), { ca, auth });
    expect(landing.body.toString()).toMatch(/href="metrics"[\s\S]*href="healthz"/);
    expect((await get(web.url('/healthz'), { ca, auth })).status).toBe(200);
    const gz = await get(web.url('/metrics'), { ca, auth, headers: { 'Accept-Encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toContain('till_memory_total_bytes 4294967296');
    expect((await get(web.url('/nope'), { ca, auth })).status).toBe(404);
  });
});

/** The real bcrypt check, watched: how many ran, how many at once at most, and on which hashes. */
function watchedVerify() {
  const w = {
    calls: 0,
    running: 0,
    maxRunning: 0,
    hashes: [] as string[],
    verify: async (password: string, hash: string) => {
      w.calls += 1;
      w.hashes.push(hash);
      w.running += 1;
      w.maxRunning = Math.max(w.maxRunning, w.running);
      try {
        return await verify(password, hash);
      } finally {
        w.running -= 1;
      }
    },
  };
  return w;
}

describe('basic auth under a password-guessing flood (issue 23)', () => {
  const users = new Map([
    ['prometheus', hashSync('right', 6)],
    ['grafana', hashSync('other', 6)],
  ]);
  let ex: Exporter;
  let web: WebServer | undefined;
  beforeAll(async () => {
    ex = createExporter(config, { logger: quiet, systemInfo: fixtureSystemInfo });
    await ex.start();
  });
  afterEach(async () => {
    await web?.close();
    web = undefined;
  });
  afterAll(() => ex.stop());
  /** Serves `users` with these limits, bcrypt watched; returns the watch and the /metrics URL. */
  async function serve(authLimits: Partial<AuthLimits> = {}) {
    const w = watchedVerify();
    web = await startWebServer(
      ex,
      '127.0.0.1:0',
      { headers: {}, users },
      { logger: quiet, verify: w.verify, authLimits },
    );
    return { w, url: web.url('/metrics') };
  }

  it('answers a flood of wrong passwords with 401s, running at most the burst of bcrypt checks, one at a time, while the scraper is served', async () => {
    // A global budget that does not refill during the test, so the count is exact.
    const { w, url } = await serve({
      checkBurst: 5,
      checksPerSecond: 0.001,
      queuedChecks: 4,
      limitedDelayMs: 20,
    });
    expect((await get(url, { auth: 'prometheus:right' })).status).toBe(200);
    const checksForScraper = w.calls;

    const flood = Array.from({ length: 100 }, (_, i) => get(url, { auth: `prometheus:guess-${i}` }));
    const scrapes = Array.from({ length: 10 }, () => get(url, { auth: 'prometheus:right' }));
    const [attacks, good] = await Promise.all([Promise.all(flood), Promise.all(scrapes)]);

    expect(attacks.map((r) => r.status)).toEqual(attacks.map(() => 401));
    expect(good.map((r) => r.status)).toEqual(good.map(() => 200));
    // The scraper's credentials were verified once and then remembered.
    expect(checksForScraper).toBe(1);
    expect(w.calls - checksForScraper).toBeLessThanOrEqual(5);
    expect(w.maxRunning).toBe(1);
    await ex.collectNow();
    const text = (await get(url, { auth: 'prometheus:right' })).body.toString();
    const wrong = seriesValue(text, 'till_exporter_http_auth_failures_total{reason="wrong_credentials"}');
    const limited = seriesValue(text, 'till_exporter_http_auth_failures_total{reason="rate_limited"}');
    expect(wrong).toBe(w.calls - checksForScraper);
    expect((wrong ?? 0) + (limited ?? 0)).toBe(100);
  });

  it('gives each source a budget of failed checks; past it, only credentials already verified get in', async () => {
    const { w, url } = await serve({
      checkBurst: 1000,
      checksPerSecond: 1000,
      sourceFailureBurst: 3,
      limitedDelayMs: 20,
      sourceFailureIntervalMs: 3_600_000,
    });
    expect((await get(url, { auth: 'prometheus:right' })).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await get(url, { auth: `root:guess-${i}` })).status).toBe(401);
    // 1 for the scraper, then 3 failures: the rest of the guesses cost no bcrypt at all.
    expect(w.calls).toBe(4);
    expect((await get(url, { auth: 'prometheus:right' })).status).toBe(200);
    // A right password not seen before is refused from that address too, unchecked: telling it
    // apart would take the very bcrypt check the budget protects (see docs/security.md).
    expect((await get(url, { auth: 'grafana:other' })).status).toBe(401);
    expect(w.calls).toBe(4);
  });

  it('checks an unknown user against a hash of the same cost as the real ones, so timing does not reveal user names', async () => {
    const { w, url } = await serve();
    expect((await get(url, { auth: 'prometheus:wrong' })).status).toBe(401);
    expect((await get(url, { auth: 'nobody:wrong' })).status).toBe(401);
    expect(w.calls).toBe(2);
    const [known, unknown] = w.hashes as [string, string];
    expect(known).toBe(users.get('prometheus'));
    expect(unknown).not.toBe(known);
    expect(unknown.slice(0, 7)).toBe(known.slice(0, 7).replace('$2y$', '$2b$'));
  });
});

describe('TLS client certificates follow exporter-toolkit (Go) semantics', () => {
  let dir: string;
  let ex: Exporter;
  const files: Record<string, Buffer> = {};
  const servers: WebServer[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-mtls-'));
    selfSignedCert(dir, 'server', '/CN=till', 'IP:127.0.0.1');
    selfSignedCert(dir, 'ca', '/CN=store CA');
    selfSignedCert(dir, 'rogue', '/CN=prometheus');
    signedCert(dir, 'client', '/CN=prometheus', { ca: 'ca' });
    signedCert(dir, 'prometheus', '/CN=prometheus', { ca: 'ca', san: 'DNS:prometheus.monitoring,IP:::1' });
    signedCert(dir, 'grafana', '/CN=grafana', {
      ca: 'ca',
      san: 'DNS:grafana.monitoring,URI:spiffe://tw/grafana',
    });
    for (const f of ['server.crt', 'ca.crt', 'client.crt', 'client.key', 'rogue.crt', 'rogue.key'])
      files[f] = readFileSync(join(dir, f));
    ex = createExporter(config, { logger: quiet, systemInfo: fixtureSystemInfo });
    await ex.start();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await ex?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(clientAuth: string): Promise<WebServer> {
    const file = join(dir, `${clientAuth}.yml`);
    writeFileSync(
      file,
      `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: ${clientAuth}\n  client_ca_file: ca.crt\n`,
    );
    const s = await startWebServer(ex, '127.0.0.1:0', loadWebConfig(file), { logger: quiet });
    servers.push(s);
    return s;
  }
  const as = (who: 'none' | 'client' | 'rogue') =>
    who === 'none'
      ? { ca: files['server.crt'] }
      : { ca: files['server.crt'], cert: files[`${who}.crt`], key: files[`${who}.key`] };
  const outcome = (url: string, who: 'none' | 'client' | 'rogue') =>
    get(url, as(who)).then(
      (r) => r.status,
      () => 'refused' as const,
    );

  it('VerifyClientCertIfGiven: no certificate passes, a CA-signed one passes, an unverifiable one is refused', async () => {
    const url = (await serve('VerifyClientCertIfGiven')).url('/healthz');
    expect(await outcome(url, 'none')).toBe(200);
    expect(await outcome(url, 'client')).toBe(200);
    expect(await outcome(url, 'rogue')).toBe('refused');
  });

  it('RequireAnyClientCert: some certificate is required, verified or not', async () => {
    const url = (await serve('RequireAnyClientCert')).url('/healthz');
    expect(await outcome(url, 'none')).toBe('refused');
    expect(await outcome(url, 'rogue')).toBe(200);
  });

  it('RequireAndVerifyClientCert: only a CA-signed certificate passes', async () => {
    const url = (await serve('RequireAndVerifyClientCert')).url('/healthz');
    expect(await outcome(url, 'none')).toBe('refused');
    expect(await outcome(url, 'rogue')).toBe('refused');
    expect(await outcome(url, 'client')).toBe(200);
  });

  describe('and the rest of the web config schema at work', () => {
    /** A client certificate signed by ca.crt with these SANs, as DIR/NAME.crt and NAME.key. */
    const clientCert = (name: string, san: string) => signedCert(dir, name, `/CN=${name}`, { ca: 'ca', san });
    const read = (f: string) => readFileSync(join(dir, f));
    async function serveYaml(
      yaml: string,
      listen: string | string[] = '127.0.0.1:0',
      telemetryPath?: string,
    ) {
      const file = join(dir, `schema-${servers.length}.yml`);
      writeFileSync(file, yaml);
      const s = await startWebServer(ex, listen, loadWebConfig(file), {
        logger: quiet,
        ...(telemetryPath && { telemetryPath }),
      });
      servers.push(s);
      return s;
    }
    const tls = 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n';
    const asClient = (who: string) => ({
      ca: read('server.crt'),
      cert: read(`${who}.crt`),
      key: read(`${who}.key`),
    });

    it('client_allowed_sans: only a client certificate carrying one of the listed SANs gets in', async () => {
      const s = await serveYaml(
        `${tls}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  client_allowed_sans: ['::1', spiffe://tw/grafana]\n`,
      );
      expect((await get(s.url('/healthz'), asClient('prometheus'))).status).toBe(200);
      expect((await get(s.url('/healthz'), asClient('grafana'))).status).toBe(200);
      clientCert('other', 'DNS:other.monitoring');
      await expect(get(s.url('/healthz'), asClient('other'))).rejects.toThrow();
      expect(
        certificateSans('DNS:a, IP Address:0:0:0:0:0:0:0:1, email:x@y, URI:spiffe://tw/p, DNS:"b, c"'),
      ).toEqual(['a', '::1', 'x@y', 'spiffe://tw/p', 'b, c']);
    });

    it('RequestClientCert asks for a certificate and lets any client in, with one or without', async () => {
      const s = await serveYaml(`${tls}  client_auth_type: RequestClientCert\n`);
      expect((await get(s.url('/healthz'), { ca: read('server.crt') })).status).toBe(200);
      expect((await get(s.url('/healthz'), asClient('rogue'))).status).toBe(200);
    });

    it('cipher_suites and max_version limit what a client can negotiate', async () => {
      const s = await serveYaml(
        `${tls}  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n`,
      );
      const port = s.address().port;
      expect(await handshake(port, { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).toBe(
        fingerprint(read('server.crt')),
      );
      expect(
        await handshake(port, { ciphers: 'ECDHE-RSA-AES256-GCM-SHA384', maxVersion: 'TLSv1.2' }),
      ).toMatch(/^error: .*(handshake failure|no shared cipher)/i);
      // TLS 1.3 is above max_version.
      expect(await handshake(port, { minVersion: 'TLSv1.3' })).toMatch(/^error: /);
    });

    it('rate_limit answers 429 past its burst, before any password check; headers go on every answer', async () => {
      const s = await serveYaml(
        `basic_auth_users:\n  prometheus: '${hashSync('pw', 4)}'\nrate_limit:\n  interval: 1h\n  burst: 2\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n    X-Content-Type-Options: nosniff\n`,
      );
      const a = await get(s.url('/healthz'), { auth: 'prometheus:pw' });
      expect(a.status).toBe(200);
      expect(a.headers['x-frame-options']).toBe('deny');
      expect(a.headers['x-content-type-options']).toBe('nosniff');
      expect((await get(s.url('/metrics'), { auth: 'prometheus:pw' })).status).toBe(200);
      expect((await get(s.url('/metrics'), { auth: 'prometheus:pw' })).status).toBe(429);
      expect((await get(s.url('/metrics'))).status).toBe(429);
    });

    it('listens on several addresses, and serves the metrics at --web.telemetry-path', async () => {
      const s = await serveYaml(
        `basic_auth_users:\n  prometheus: '${hashSync('pw', 4)}'\n`,
        ['127.0.0.1:0', '[::1]:0'],
        '/till/metrics',
      );
      const [v4, v6] = s.servers.map((x) => x.address() as { address: string; port: number });
      for (const url of [`http://127.0.0.1:${v4?.port}`, `http://[::1]:${v6?.port}`]) {
        const res = await get(`${url}/till/metrics`, { auth: 'prometheus:pw' });
        expect(res.status, url).toBe(200);
        expect(res.body.toString()).toContain('till_memory_total_bytes');
        expect((await get(`${url}/metrics`, { auth: 'prometheus:pw' })).status).toBe(404);
        expect((await get(`${url}/`, { auth: 'prometheus:pw' })).body.toString()).toContain(
          'href="till/metrics"',
        );
      }
    });
  });
});

/** The certificate a TLS handshake with `port` presents, by SHA-256 fingerprint; or the handshake error. */
function handshake(
  port: number,
  opts: {
    ca?: Buffer;
    ciphers?: string;
    minVersion?: 'TLSv1.2' | 'TLSv1.3';
    maxVersion?: 'TLSv1.2' | 'TLSv1.3';
    cert?: Buffer;
    key?: Buffer;
  } = {},
): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.on('error', (e) => resolve(`error: ${e.message}`));
  });
}
const fingerprint = (pem: Buffer) => new X509Certificate(pem).fingerprint256;

describe('web config applied without a restart (certificate rotation)', () => {
  let dir: string;
  let ex: Exporter;
  let web: WebServer;
  const file = () => join(dir, 'web.yml');
  const hash = (pw: string) => hashSync(pw, 4);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-rotate-'));
    for (const n of ['old', 'new']) selfSignedCert(dir, n, `/CN=till-${n}`, 'IP:127.0.0.1');
    copyFileSync(join(dir, 'old.crt'), join(dir, 'till.crt'));
    copyFileSync(join(dir, 'old.key'), join(dir, 'till.key'));
    writeFileSync(
      file(),
      `tls_server_config:\n  cert_file: till.crt\n  key_file: till.key\nbasic_auth_users:\n  prometheus: '${hash('first')}'\n`,
    );
    ex = createExporter(config, { logger: quiet, systemInfo: fixtureSystemInfo });
    await ex.start();
    web = await startWebServer(ex, '127.0.0.1:0', loadWebConfig(file()), {
      logger: quiet,
      reloadCheckIntervalMs: 0,
    });
  });
  afterAll(async () => {
    await web?.close();
    await ex?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const reloadGauge = async (auth: string) => {
    await ex.collectNow();
    const text = (
      await get(web.url('/metrics'), { ca: readFileSync(join(dir, 'till.crt')), auth })
    ).body.toString();
    return seriesValue(text, 'till_exporter_web_config_last_reload_successful');
  };

  it('serves a certificate replaced on disk to the next connection, the way a renewal job swaps it in', async () => {
    const port = web.address().port;
    expect(await handshake(port)).toBe(fingerprint(readFileSync(join(dir, 'old.crt'))));
    // Renewal tools write new files and rename them over the old ones.
    copyFileSync(join(dir, 'new.key'), join(dir, 'till.key.tmp'));
    copyFileSync(join(dir, 'new.crt'), join(dir, 'till.crt.tmp'));
    renameSync(join(dir, 'till.key.tmp'), join(dir, 'till.key'));
    renameSync(join(dir, 'till.crt.tmp'), join(dir, 'till.crt'));
    expect(await handshake(port)).toBe(fingerprint(readFileSync(join(dir, 'new.crt'))));
    // And a scrape that trusts only the new certificate works.
    const res = await get(web.url('/metrics'), {
      ca: readFileSync(join(dir, 'new.crt')),
      auth: 'prometheus:first',
    });
    expect(res.status).toBe(200);
    expect(await reloadGauge('prometheus:first')).toBe(1);
  });

  it('keeps serving the last good certificate when the new files do not load, and says so in a metric', async () => {
    const port = web.address().port;
    const serving = await handshake(port);
    writeFileSync(join(dir, 'till.crt'), 'not a certificate\n');
    expect(await handshake(port)).toBe(serving);
    expect(await reloadGauge('prometheus:first').catch(() => undefined)).toBeUndefined();
    // The CA the client trusts is the file just broken; check the gauge with the served certificate.
    await ex.collectNow();
    const text = (
      await get(web.url('/metrics'), { ca: readFileSync(join(dir, 'new.crt')), auth: 'prometheus:first' })
    ).body.toString();
    expect(seriesValue(text, 'till_exporter_web_config_last_reload_successful')).toBe(0);
    copyFileSync(join(dir, 'new.crt'), join(dir, 'till.crt'));
    expect(await web.reload()).toBe(true);
  });

  it('applies changed users at once: a replaced password stops working, the new one works', async () => {
    const ca = readFileSync(join(dir, 'new.crt'));
    expect((await get(web.url('/metrics'), { ca, auth: 'prometheus:first' })).status).toBe(200);
    writeFileSync(
      file(),
      `tls_server_config:\n  cert_file: till.crt\n  key_file: till.key\nbasic_auth_users:\n  prometheus: '${hash('second')}'\n`,
    );
    expect((await get(web.url('/metrics'), { ca, auth: 'prometheus:first' })).status).toBe(401);
    expect((await get(web.url('/metrics'), { ca, auth: 'prometheus:second' })).status).toBe(200);
  });

  it('refuses to switch from TLS to plain HTTP on the fly, and keeps TLS', async () => {
    const port = web.address().port;
    writeFileSync(file(), `basic_auth_users:\n  prometheus: '${hash('second')}'\n`);
    expect(await web.reload()).toBe(false);
    expect(await handshake(port)).toBe(fingerprint(readFileSync(join(dir, 'new.crt'))));
  });
});

describe('connection limits', () => {
  let ex: Exporter;
  let web: WebServer;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    ex = createExporter(config, { logger: quiet, systemInfo: fixtureSystemInfo });
    await ex.start();
    web = await startWebServer(ex, '127.0.0.1:0', undefined, {
      logger: quiet,
      limits: { maxConnections: 3, headersTimeoutMs: 300, requestTimeoutMs: 300, idleTimeoutMs: 300 },
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await web.close();
    await ex.stop();
  });

  /** Opens a raw connection; resolves once connected, with a promise of its close. */
  async function open(): Promise<{ socket: Socket; closed: Promise<string> }> {
    const socket = connect(web.address().port, '127.0.0.1');
    sockets.push(socket);
    let received = '';
    socket.on('data', (b: Buffer) => (received += b.toString()));
    socket.on('error', () => {});
    const closed = new Promise<string>((r) => socket.on('close', () => r(received)));
    await new Promise((r) => socket.once('connect', r));
    return { socket, closed };
  }

  it('closes a client that never finishes its request headers (slowloris), and one that sends nothing', async () => {
    const slow = await open();
    slow.socket.write('GET /metrics HTTP/1.1\r\nHost: till\r\nX-Slow: ');
    // A byte now and then keeps the connection from ever being idle; only the headers deadline ends it.
    const trickle = setInterval(() => slow.socket.write('a'), 50);
    const silent = await open();
    try {
      expect(await slow.closed).toMatch(/^HTTP\/1.1 408/);
    } finally {
      clearInterval(trickle);
    }
    // Closed, not held: by the idle timeout (nothing said) or by the headers deadline (a 408), whichever of the
    // two equal bounds Node checks first; a busy machine decides that order.
    expect(await silent.closed).toMatch(/^(?:|HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*)$/);
  });

  it('closes connections beyond the maximum at once and counts them', async () => {
    const held = [await open(), await open(), await open()];
    for (const h of held) h.socket.write('GET /healthz HTTP/1.1\r\nHost: till\r\n\r\n');
    const extra = await open();
    expect(await extra.closed).toBe('');
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closed));
    const text = await (await fetch(web.url('/metrics'))).text();
    expect(seriesValue(text, 'till_exporter_http_connections_dropped_total')).toBe(1);
  });
});

describe('web config validation', () => {
  it('names the file, key and reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-webcfg-'));
    const file = join(dir, 'web.yml');
    writeFileSync(file, 'basic_auth_users:\n  prometheus: plaintext\n');
    expect(() => loadWebConfig(file)).toThrow(
      new ConfigError(file, {
        key: 'basic_auth_users.prometheus',
        message: 'expected a bcrypt hash ($2y$...)',
      }),
    );
    writeFileSync(file, 'tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n');
    expect(() => loadWebConfig(file)).toThrow(
      /web.yml: tls_server_config.cert_file: cannot read missing.crt: ENOENT/,
    );
    writeFileSync(file, 'tls_config: {}\n');
    expect(() => loadWebConfig(file)).toThrow(
      new ConfigError(file, { key: 'tls_config', message: 'unknown key' }),
    );
    writeFileSync(
      file,
      'tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  client_auth_type: VerifyClientCertIfGiven\n',
    );
    expect(() => loadWebConfig(file)).toThrow(
      new ConfigError(file, {
        key: 'tls_server_config.client_ca_file',
        message: 'client_ca_file is required when client_auth_type verifies client certificates',
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a web config that protects nothing: empty, comments only, or no users and no TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-webcfg-'));
    const file = join(dir, 'web.yml');
    for (const text of [
      '',
      '# TLS and users go here\n',
      '{}\n',
      'basic_auth_users: {}\n',
      'http_server_config:\n  headers:\n    X-Frame-Options: deny\n',
    ]) {
      writeFileSync(file, text);
      expect(() => loadWebConfig(file), JSON.stringify(text)).toThrow(
        `${file}: (top level): sets neither tls_server_config nor basic_auth_users`,
      );
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('parses listen addresses', () => {
    expect(parseListenAddress(':9835')).toEqual({ host: undefined, port: 9835 });
    expect(parseListenAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('[::1]:9835')).toEqual({ host: '::1', port: 9835 });
    expect(() => parseListenAddress('9835')).toThrow(/expected \[host\]:port/);
  });
});

describe('the CLI', () => {
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
  const minimal = fileURLToPath(new URL('../examples/minimal.yml', import.meta.url));

  it('runs the minimal example; a live scrape passes promtool check metrics', async () => {
    const port = await closedPort();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', cli, '--config', minimal, `--web.listen-address=127.0.0.1:${port}`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    try {
      let text = '';
      for (let i = 0; i < 150 && !text; i++) {
        text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
          (r) => r.text(),
          () => new Promise<string>((r) => setTimeout(() => r(''), 100)),
        );
      }
      expect(text, stderr).toContain('till_collector_success{collector="system"} 1');
      expect(text).toMatch(/^till_memory_total_bytes \d+/m);
      expect(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })).toBe('');
    } finally {
      child.kill('SIGTERM');
    }
  });

  /** Runs the CLI from its sources; its exit status, stdout and stderr. */
  function run(args: string[]): { status: number; stdout: string; stderr: string } {
    try {
      const stdout = execFileSync(process.execPath, ['--import', 'tsx', cli, ...args], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
      return { status: 0, stdout, stderr: '' };
    } catch (e) {
      const err = e as { status: number; stdout: string; stderr: string };
      return { status: err.status, stdout: err.stdout, stderr: err.stderr };
    }
  }

  it('exits 1 with file, key and reason for a bad config', () => {
    const bad = fileURLToPath(
      new URL('./testdata/config-invalid/identity-till-missing.yml', import.meta.url),
    );
    const r = run(['--config', bad]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${bad}: identity.till: required`);
  });

  it('names a mistyped flag with the one that was meant, and exits 2', () => {
    for (const [typo, meant] of [
      ['--web.listen-adress=:1', '--web.listen-address'],
      ['--colector.system', '--collector.system'],
      ['--log.formt=json', '--log.format'],
      ['--web.telemetry_path=/m', '--web.telemetry-path'],
    ] as const) {
      const r = run(['--config', minimal, typo]);
      expect(r.status, typo).toBe(2);
      expect(r.stderr).toBe(
        `tillwatch-exporter: unknown flag ${typo.split('=')[0]} (did you mean ${meant}?)\nSee tillwatch-exporter --help.\n`,
      );
    }
    // Nothing close: no guess.
    expect(run(['--config', minimal, '--collector.gpu']).stderr).toMatch(
      /^tillwatch-exporter: unknown flag --collector.gpu\n/,
    );
  });

  it('answers --help and --version on stdout and exits 0', () => {
    const help = run(['--help']);
    expect(help.status).toBe(0);
    for (const flag of ['--web.listen-address', '--web.telemetry-path', '--log.format', '--web.config.file'])
      expect(help.stdout).toContain(flag);
    const version = run(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(
      /^tillwatch-exporter, version \d+\.\d+\.\d+ \(revision: \S+\)\n {2}node version: v\d+/,
    );
  });

  it('logs logfmt by default and JSON with --log.format=json; refuses another format', async () => {
    const start = async (format?: string) => {
      const port = await closedPort();
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          cli,
          '--config',
          minimal,
          `--web.listen-address=127.0.0.1:${port}`,
          ...(format ? [`--log.format=${format}`] : []),
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      for (let i = 0; i < 150 && !/listening/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
      return stderr.split('\n').find((l) => l.includes('listening')) ?? stderr;
    };
    expect(await start()).toMatch(
      /^time=\S+ level=info msg=listening app=tillwatch-exporter addresses=127\.0\.0\.1:\d+ /,
    );
    const json = JSON.parse(await start('json')) as Record<string, unknown>;
    expect(json).toMatchObject({ level: 'info', msg: 'listening' });
    expect(run(['--config', minimal, '--log.format=xml']).stderr).toContain(
      '--log.format: expected logfmt or json, got "xml"',
    );
  });
});
