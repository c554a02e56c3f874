// HTTP(S) front of the exporter: /metrics, /healthz and a landing page, with TLS and basic auth from
// a Prometheus exporter-toolkit web config file. Plain node:http rather than express: three fixed
// routes, and on a weak till the RSS express costs is a large share of the memory budget
// (docs/benchmarks.md, "Exporter").
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, loadYamlFile, parseWith } from '@tillwatch/config';
import { z } from 'zod';
import type { Exporter } from './exporter.js';

const webConfigSchema = z.strictObject({
  tls_server_config: z
    .strictObject({
      cert_file: z.string().min(1),
      key_file: z.string().min(1),
      client_auth_type: z
        .enum([
          'NoClientCert',
          'RequireAnyClientCert',
          'VerifyClientCertIfGiven',
          'RequireAndVerifyClientCert',
        ])
        .default('NoClientCert'),
      client_ca_file: z.string().min(1).optional(),
      min_version: z.enum(['TLS12', 'TLS13']).default('TLS12'),
    })
    .refine((t) => t.client_auth_type === 'NoClientCert' || t.client_ca_file !== undefined, {
      error: 'client_ca_file is required when client_auth_type verifies client certificates',
      path: ['client_ca_file'],
    })
    .optional(),
  http_server_config: z.strictObject({ headers: z.record(z.string(), z.string()).default({}) }).optional(),
  basic_auth_users: z
    .record(
      z.string(),
      z.string().regex(/^\$2[aby]\$\d\d\$.{53}$/, { error: 'expected a bcrypt hash ($2y$...)' }),
    )
    .optional(),
});

export interface WebConfig {
  tls?: {
    cert: Buffer;
    key: Buffer;
    ca?: Buffer;
    requestCert: boolean;
    rejectUnauthorized: boolean;
    minVersion: 'TLSv1.2' | 'TLSv1.3';
  };
  headers: Record<string, string>;
  users?: Map<string, string>;
}

/** Reads an exporter-toolkit web config; paths inside it are relative to the file, as in exporter-toolkit. */
export function loadWebConfig(file: string): WebConfig {
  const c = parseWith(webConfigSchema, loadYamlFile(file) ?? {}, file);
  const dir = dirname(resolve(file));
  const read = (key: string, p: string) => {
    try {
      return readFileSync(resolve(dir, p));
    } catch (err) {
      throw new ConfigError(file, { key, message: `cannot read ${p}: ${(err as Error).message}` });
    }
  };
  const out: WebConfig = { headers: c.http_server_config?.headers ?? {} };
  const t = c.tls_server_config;
  if (t) {
    out.tls = {
      cert: read('tls_server_config.cert_file', t.cert_file),
      key: read('tls_server_config.key_file', t.key_file),
      ...(t.client_ca_file && { ca: read('tls_server_config.client_ca_file', t.client_ca_file) }),
      requestCert: t.client_auth_type !== 'NoClientCert',
      rejectUnauthorized: t.client_auth_type === 'RequireAndVerifyClientCert',
      minVersion: t.min_version === 'TLS13' ? 'TLSv1.3' : 'TLSv1.2',
    };
  }
  if (c.basic_auth_users) out.users = new Map(Object.entries(c.basic_auth_users));
  return out;
}

/** Parses "--web.listen-address" values: ":9835", "127.0.0.1:0", "[::1]:9835". */
export function parseListenAddress(addr: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new Error(
      `--web.listen-address: expected [host]:port such as ":9835" or "127.0.0.1:9835", got ${JSON.stringify(addr)}`,
    );
  }
  const host = m[1] ?? m[2];
  return { host: host ? host : undefined, port };
}

// bcrypt is deliberately slow (tens of milliseconds in JS at cost 10); like exporter-toolkit, remember the
// credentials that passed so Prometheus' scrape every 15 s does not pay it each time.
type Bcrypt = {
  compare(s: string, hash: string): Promise<boolean>;
  hashSync(s: string, rounds: number): string;
};

// bcryptjs and node:https are loaded only when the web config asks for them (RSS budget).
class BasicAuth {
  private readonly passed = new Set<string>();
  private constructor(
    private readonly users: Map<string, string>,
    private readonly bcrypt: Bcrypt,
    private readonly dummy: string,
  ) {}

  static async create(users: Map<string, string>): Promise<BasicAuth> {
    const bcrypt = (await import('bcryptjs')).default;
    return new BasicAuth(users, bcrypt, bcrypt.hashSync('not-a-password', 4));
  }

  async check(header: string | undefined): Promise<boolean> {
    if (!header?.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) return false;
    const user = decoded.slice(0, i);
    const key = createHash('sha256').update(decoded).digest('hex');
    if (this.passed.has(key)) return true;
    const hash = this.users.get(user);
    // Compare against a dummy hash for unknown users so timing does not reveal which users exist.
    const ok = await this.bcrypt.compare(decoded.slice(i + 1), hash ?? this.dummy);
    if (ok && hash) {
      if (this.passed.size > 100) this.passed.clear();
      this.passed.add(key);
      return true;
    }
    return false;
  }
}

const LANDING = `<!doctype html>
<html><head><meta charset="utf-8"><title>TillWatch exporter</title></head>
<body><h1>TillWatch exporter</h1>
<p>Prometheus exporter for a retail till.</p>
<ul><li><a href="metrics">Metrics</a></li><li><a href="healthz">Health</a></li></ul>
</body></html>
`;

export interface WebServer {
  readonly server: Server;
  /** The bound address, e.g. for tests that listened on port 0. */
  address(): AddressInfo;
  url(path?: string): string;
  close(): Promise<void>;
}

export async function startWebServer(
  exporter: Exporter,
  listenAddress: string,
  web: WebConfig = { headers: {} },
  logger?: Logger,
): Promise<WebServer> {
  const { host, port } = parseListenAddress(listenAddress);
  const auth = web.users ? await BasicAuth.create(web.users) : null;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for (const [k, v] of Object.entries(web.headers)) res.setHeader(k, v);
    if (auth && !(await auth.check(req.headers.authorization))) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="tillwatch"', 'Content-Type': 'text/plain' });
      res.end('Unauthorized\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
      res.end('Method Not Allowed\n');
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      const wantsGzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
      const body = wantsGzip ? await exporter.gzipped() : (await exporter.snapshot()).text;
      const headers: Record<string, string | number> = {
        'Content-Type': exporter.contentType,
        'Content-Length': Buffer.byteLength(body),
      };
      if (wantsGzip) headers['Content-Encoding'] = 'gzip';
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    } else if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('OK\n');
    } else if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(LANDING);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('Not Found\n');
    }
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      logger?.error({ err: (err as Error).message, url: req.url }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('Internal Server Error\n');
    });
  };

  const server: Server = web.tls
    ? (await import('node:https')).createServer(
        {
          cert: web.tls.cert,
          key: web.tls.key,
          ...(web.tls.ca && { ca: web.tls.ca }),
          requestCert: web.tls.requestCert,
          rejectUnauthorized: web.tls.rejectUnauthorized,
          minVersion: web.tls.minVersion,
        },
        listener,
      )
    : createHttpServer(listener);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const scheme = web.tls ? 'https' : 'http';
  return {
    server,
    address: () => server.address() as AddressInfo,
    url(p = '/') {
      const a = server.address() as AddressInfo;
      const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      return `${scheme}://${h}:${a.port}${p}`;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
