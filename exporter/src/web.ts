// HTTP(S) front of the exporter: /metrics, /healthz and a landing page, with TLS and basic auth from
// a Prometheus exporter-toolkit web config file. Plain node:http rather than express: three fixed
// routes, and on a weak till the RSS express costs is a large share of the memory budget
// (docs/benchmarks.md, "Exporter"). Anyone on the store network can reach this port, so the server
// bounds what a client can hold: connections, time to send a request, and (web-auth.ts) the bcrypt work
// a wrong password costs.
import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, TOP_LEVEL, loadYamlFile, parseWith } from '@tillwatch/config';
import { z } from 'zod';
import type { Exporter } from './exporter.js';
import { BasicAuth, type AuthLimits, type Verify } from './web-auth.js';

type ClientAuthType =
  'NoClientCert' | 'RequireAnyClientCert' | 'VerifyClientCertIfGiven' | 'RequireAndVerifyClientCert';

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
    .refine(
      (t) =>
        !['VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'].includes(t.client_auth_type) ||
        t.client_ca_file !== undefined,
      {
        error: 'client_ca_file is required when client_auth_type verifies client certificates',
        path: ['client_ca_file'],
      },
    )
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
    clientAuth: ClientAuthType;
    minVersion: 'TLSv1.2' | 'TLSv1.3';
  };
  headers: Record<string, string>;
  users?: Map<string, string>;
}

/** Reads an exporter-toolkit web config; paths inside it are relative to the file, as in exporter-toolkit. */
export function loadWebConfig(file: string): WebConfig {
  const c = parseWith(webConfigSchema, loadYamlFile(file) ?? {}, file);
  // exporter-toolkit serves plain HTTP to anyone for an empty file; a till exporter given a web
  // config meant to protect itself, so a file that protects nothing is a mistake (a failed template).
  if (!c.tls_server_config && Object.keys(c.basic_auth_users ?? {}).length === 0) {
    throw new ConfigError(file, {
      key: TOP_LEVEL,
      message:
        'sets neither tls_server_config nor basic_auth_users, so anyone could read the exporter over plain HTTP; configure one of them, or drop --web.config.file',
    });
  }
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
      clientAuth: t.client_auth_type,
      minVersion: t.min_version === 'TLS13' ? 'TLSv1.3' : 'TLSv1.2',
    };
  }
  if (c.basic_auth_users && Object.keys(c.basic_auth_users).length > 0)
    out.users = new Map(Object.entries(c.basic_auth_users));
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

/** Bounds on what clients can hold; the defaults suit a till scraped by one or two Prometheus servers. */
export interface WebLimits {
  /** Open connections at most; more are closed at once (till_exporter_http_connections_dropped_total). */
  maxConnections: number;
  /** Time a client has to finish its TLS handshake, and to send a request's headers. */
  headersTimeoutMs: number;
  /** Time a client has to send a whole request. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (Prometheus scrapes every 15 s or so). */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic at all for this long is closed (a client that stopped reading). */
  idleTimeoutMs: number;
}

export const DEFAULT_WEB_LIMITS: WebLimits = {
  maxConnections: 128,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
};

export interface WebServerOptions {
  logger?: Logger;
  limits?: Partial<WebLimits>;
  authLimits?: Partial<AuthLimits>;
  /** bcrypt verification (tests wrap the real one to watch it). */
  verify?: Verify;
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
  options: WebServerOptions = {},
): Promise<WebServer> {
  const logger = options.logger;
  const limits = { ...DEFAULT_WEB_LIMITS, ...options.limits };
  const { host, port } = parseListenAddress(listenAddress);
  const auth = web.users
    ? await BasicAuth.create(web.users, {
        ...(options.authLimits && { limits: options.authLimits }),
        ...(options.verify && { verify: options.verify }),
      })
    : null;
  let dropped = 0;
  const metrics = exporter.addSource(() => [
    {
      name: 'till_exporter_http_connections_dropped_total',
      help: 'Connections closed on arrival because the exporter already had its maximum open.',
      type: 'counter',
      samples: [{ labels: {}, value: dropped }],
    },
    ...(auth?.families() ?? []),
  ]);
  if (auth) auth.onReject = metrics.changed;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for (const [k, v] of Object.entries(web.headers)) res.setHeader(k, v);
    if (auth && !(await auth.check(req.headers.authorization, req.socket.remoteAddress))) {
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

  const httpOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often the two timeouts above are enforced (Node's default is every 30 s).
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs / 2),
  };
  const tls = web.tls;
  const server: Server = tls
    ? (await import('node:https')).createServer(
        {
          ...httpOptions,
          cert: tls.cert,
          key: tls.key,
          ...(tls.ca && { ca: tls.ca }),
          requestCert: tls.clientAuth !== 'NoClientCert',
          // Only this mode fails the handshake itself; the two below are enforced once it is done.
          rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert',
          minVersion: tls.minVersion,
          handshakeTimeout: limits.headersTimeoutMs,
        },
        listener,
      )
    : createHttpServer(httpOptions, listener);
  if (tls && (tls.clientAuth === 'RequireAnyClientCert' || tls.clientAuth === 'VerifyClientCertIfGiven')) {
    // Go's semantics, which exporter-toolkit's names stand for: RequireAnyClientCert needs some
    // certificate (unverified); VerifyClientCertIfGiven lets a client without one in, but a
    // certificate that is given must verify against client_ca_file.
    server.on('secureConnection', (socket: TLSSocket) => {
      const given = Object.keys(socket.getPeerCertificate()).length > 0;
      const refuse = tls.clientAuth === 'RequireAnyClientCert' ? !given : given && !socket.authorized;
      if (refuse) {
        logger?.warn(
          { remote: socket.remoteAddress, reason: given ? socket.authorizationError : 'no certificate' },
          'client certificate refused',
        );
        socket.destroy();
      }
    });
  }
  server.maxConnections = limits.maxConnections;
  server.on('drop', () => {
    dropped += 1;
    metrics.changed();
  });
  // A socket with no traffic for this long is destroyed (no 'timeout' listener keeps it).
  server.timeout = limits.idleTimeoutMs;
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
        metrics.remove();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
