import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import bcrypt from 'bcryptjs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.js';
import { createExporter, type Exporter } from './exporter.js';
import { loadWebConfig, parseListenAddress, startWebServer, type WebServer } from './web.js';
import './collectors/index.js';
import { closedPort } from '@tillwatch/testkit';
import { fixtureSystemInfo } from './testdata/fixture-env.js';

const config = parseConfig({ identity: { chain: 'demo', region: '77', store: '0001', till: '01' } });
const quiet = pino({ level: 'silent' });

function get(
  url: string,
  opts: { ca?: Buffer; auth?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        ...(opts.ca && { ca: opts.ca }),
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
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-keyout',
        join(dir, 'till.key'),
        '-out',
        join(dir, 'till.crt'),
        '-subj',
        '/CN=till-0001-01',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(join(dir, 'till.crt'));
    // exporter-toolkit files carry $2y$ hashes (htpasswd -B); bcryptjs writes $2b$, the same algorithm.
    const hash = bcrypt.hashSync('s3cret', 4).replace(/^\$2b\$/, '$2y$');
    writeFileSync(
      join(dir, 'web.yml'),
      `tls_server_config:\n  cert_file: till.crt\n  key_file: till.key\nbasic_auth_users:\n  prometheus: '${hash}'\n`,
    );
    ex = createExporter(config, { logger: quiet, systemInfo: fixtureSystemInfo });
    await ex.start();
    web = await startWebServer(ex, '127.0.0.1:0', loadWebConfig(join(dir, 'web.yml')), quiet);
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
    expect(res.body.toString()).toContain('till_info{chain="demo"');
  });

  it('answers 401 with a Basic challenge to a wrong password, an unknown user or no credentials', async () => {
    for (const auth of ['prometheus:wrong', 'root:s3cret', undefined]) {
      const res = await get(web.url('/metrics'), { ca, ...(auth && { auth }) });
      expect(res.status, String(auth)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="tillwatch"');
      expect(res.body.toString()).not.toContain('till_');
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

  it('exits 1 with file, key and reason for a bad config', () => {
    const bad = fileURLToPath(
      new URL('./testdata/config-invalid/identity-till-missing.yml', import.meta.url),
    );
    const r = (() => {
      try {
        execFileSync(process.execPath, ['--import', 'tsx', cli, '--config', bad], {
          encoding: 'utf8',
          stdio: 'pipe',
        });
        return { status: 0, stderr: '' };
      } catch (e) {
        return e as { status: number; stderr: string };
      }
    })();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${bad}: identity.till: required`);
  });

  it('rejects an unknown flag with usage', () => {
    try {
      execFileSync(process.execPath, ['--import', 'tsx', cli, '--config', minimal, '--collector.gpu'], {
        stdio: 'pipe',
      });
      expect.unreachable();
    } catch (e) {
      const err = e as { status: number; stderr: Buffer };
      expect(err.status).toBe(2);
      expect(err.stderr.toString()).toMatch(
        /Unknown option '--collector.gpu'[\s\S]*Usage: tillwatch-exporter/,
      );
    }
  });
});
