// HTTP(S) front of the exporter: /metrics, /healthz and a landing page, with TLS and basic auth from
// a Prometheus exporter-toolkit web config file. Plain node:http rather than express: three fixed
// routes, and on a weak till the RSS express costs is a large share of the memory budget
// (docs/benchmarks.md, "Exporter"). Anyone on the store network can reach this port, so the server
// bounds what a client can hold: connections, time to send a request, and (web-auth.ts) the bcrypt work
// a wrong password costs.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Exporter } from './exporter.js';
import { BasicAuth, TokenBucket, type AuthLimits, type Verify } from './web-auth.js';
import { httpDate } from './utc-time.js';
import { loadWebConfig, webConfigStamp, type TlsSettings, type WebConfig } from './web-config.js';

export { loadWebConfig, type WebConfig } from './web-config.js';

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
  /** Where the metrics are served (--web.telemetry-path). */
  telemetryPath?: string;
  /**
   * How often, at most, the files of a web config read by `loadWebConfig` are checked for changes
   * (on a new connection or request). A changed file is read again and applied without a restart.
   */
  reloadCheckIntervalMs?: number;
}

export const DEFAULT_TELEMETRY_PATH = '/metrics';

const landing = (telemetryPath: string) => `<!doctype html>
<html><head><meta charset="utf-8"><title>TillWatch exporter</title></head>
<body><h1>TillWatch exporter</h1>
<p>Prometheus exporter for a retail till.</p>
<ul><li><a href="${telemetryPath.replace(/^\//, '')}">Metrics</a></li><li><a href="healthz">Health</a></li></ul>
</body></html>
`;

export interface WebServer {
  /** The first listener's server. */
  readonly server: Server;
  readonly servers: readonly Server[];
  /** The first bound address, e.g. for tests that listened on port 0. */
  address(): AddressInfo;
  /** A URL on the first listener. */
  url(path?: string): string;
  /** Checks the web config's files now and applies a change (what SIGHUP does); false if it was refused. */
  reload(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The SAN values of a peer certificate as Go lists them (DNS names, e-mail addresses, IP addresses,
 * URIs). Node gives them as one string, `DNS:a, IP Address:0:0:0:0:0:0:0:1`, quoting a value that holds
 * a comma; IP addresses are compared in their canonical form, as Go's net.IP.String() writes them.
 */
export function certificateSans(subjectaltname: string | undefined): string[] {
  const out: string[] = [];
  for (const m of (subjectaltname ?? '').matchAll(
    /(DNS|IP Address|email|URI):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g,
  )) {
    const value = m[2]?.startsWith('"') ? (JSON.parse(m[2]) as string) : (m[2] ?? '');
    out.push(m[1] === 'IP Address' ? canonicalIp(value) : value);
  }
  return out;
}

function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
}

export async function startWebServer(
  exporter: Exporter,
  listenAddresses: string | readonly string[],
  web: WebConfig = { headers: {} },
  options: WebServerOptions = {},
): Promise<WebServer> {
  const logger = options.logger;
  const limits = { ...DEFAULT_WEB_LIMITS, ...options.limits };
  const telemetryPath = options.telemetryPath ?? DEFAULT_TELEMETRY_PATH;
  const addresses = (typeof listenAddresses === 'string' ? [listenAddresses] : [...listenAddresses]).map(
    (a) => ({ text: a, ...parseListenAddress(a) }),
  );
  if (addresses.length === 0) throw new Error('--web.listen-address: at least one address is needed');
  const authOptions = {
    ...(options.authLimits && { limits: options.authLimits }),
    ...(options.verify && { verify: options.verify }),
  };

  let config = web;
  let auth = config.users ? await BasicAuth.create(config.users, authOptions) : null;
  let authOn = !!config.users;
  const bucket = (c: WebConfig) =>
    c.rateLimit ? new TokenBucket(c.rateLimit.burst, 1 / c.rateLimit.intervalMs, Date.now()) : null;
  let limiter = bucket(config);
  let dropped = 0;
  let rateLimited = 0;
  let reloadOk = 1;

  const metrics = exporter.addSource(() => [
    {
      name: 'till_exporter_http_connections_dropped_total',
      help: 'Connections closed on arrival because the exporter already had its maximum open.',
      type: 'counter',
      samples: [{ labels: {}, value: dropped }],
    },
    ...(config.rateLimit || rateLimited > 0
      ? [
          {
            name: 'till_exporter_http_rate_limited_total',
            help: "Requests answered 429 by the web config's rate_limit.",
            type: 'counter' as const,
            samples: [{ labels: {}, value: rateLimited }],
          },
        ]
      : []),
    ...(config.source
      ? [
          {
            name: 'till_exporter_web_config_last_reload_successful',
            help: 'Whether the last reload of the web config (--web.config.file) was applied (1) or refused (0).',
            type: 'gauge' as const,
            samples: [{ labels: {}, value: reloadOk }],
          },
        ]
      : []),
    ...(auth?.families() ?? []),
  ]);
  if (auth) auth.onReject = metrics.changed;

  // Certificate rotation: the files of the web config are checked on new connections and requests, at
  // most every reloadCheckIntervalMs; a change is read and applied to new connections, like
  // exporter-toolkit, which reads its config on every connection and request.
  const source = config.source;
  let stamp = source ? webConfigStamp(source.files) : '';
  let lastCheck = Date.now();
  let applying: Promise<void> = Promise.resolve();
  const checkEvery = options.reloadCheckIntervalMs ?? 1000;
  const servers: Server[] = [];

  const refuse = (message: string) => {
    logger?.error({ file: source?.file, err: message }, 'web config not reloaded; serving the previous one');
    reloadOk = 0;
    metrics.changed();
    return false;
  };
  /** Reads the web config again if one of its files changed; applies it, or keeps the current one. */
  function maybeReload(force = false): boolean {
    if (!source) return true;
    const now = Date.now();
    if (!force && now - lastCheck < checkEvery) return true;
    lastCheck = now;
    const current = webConfigStamp(config.source?.files ?? source.files);
    if (!force && current === stamp) return true;
    stamp = current;
    let next: WebConfig;
    try {
      next = loadWebConfig(source.file);
    } catch (err) {
      return refuse((err as Error).message);
    }
    if (!!next.tls !== !!config.tls) return refuse('switching between plain HTTP and TLS needs a restart');
    if (next.tls && config.tls && next.tls.clientAuth !== config.tls.clientAuth)
      return refuse('changing client_auth_type needs a restart');
    if (next.tls) for (const s of servers) (s as HttpsServer).setSecureContext(next.tls.context);
    if (JSON.stringify(next.rateLimit) !== JSON.stringify(config.rateLimit)) limiter = bucket(next);
    const users = next.users;
    applying = applying
      .then(async () => {
        if (users && auth) await auth.setUsers(users);
        else if (users) {
          auth = await BasicAuth.create(users, authOptions);
          auth.onReject = metrics.changed;
        }
        authOn = !!users;
      })
      // Users that cannot be applied leave the previous ones in force, never an exporter that answers 500.
      .catch((err: unknown) => void refuse(`basic_auth_users: ${(err as Error).message}`));
    config = next;
    reloadOk = 1;
    metrics.changed();
    logger?.info({ file: source.file }, 'web config reloaded');
    return true;
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    maybeReload();
    await applying;
    if (limiter && !limiter.take(Date.now())) {
      rateLimited += 1;
      metrics.changed();
      res.writeHead(429, { 'Content-Type': 'text/plain' });
      res.end('Too Many Requests\n');
      return;
    }
    // Node.js writes a Date header only when there is none; its own is Date#toUTCString (utc-time.ts).
    res.setHeader('Date', httpDate(Date.now()));
    for (const [k, v] of Object.entries(config.headers)) res.setHeader(k, v);
    if (authOn && auth && !(await auth.check(req.headers.authorization, req.socket.remoteAddress))) {
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
    if (path === telemetryPath) {
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
      res.end(landing(telemetryPath));
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
  const https = web.tls ? await import('node:https') : undefined;
  const create = (tls: TlsSettings | undefined): Server =>
    tls && https
      ? https.createServer(
          {
            ...httpOptions,
            ...tls.context,
            requestCert: tls.clientAuth !== 'NoClientCert',
            // Only this mode fails the handshake itself; the others are enforced once it is done.
            rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert',
            handshakeTimeout: limits.headersTimeoutMs,
          },
          listener,
        )
      : createHttpServer(httpOptions, listener);

  /**
   * Go's semantics, which exporter-toolkit's names stand for: RequireAnyClientCert needs some
   * certificate (unverified); VerifyClientCertIfGiven lets a client without one in, but a certificate
   * that is given must verify against the client CA; client_allowed_sans needs one of its SANs.
   */
  function clientCertProblem(socket: TLSSocket): string | undefined {
    const tls = config.tls;
    if (!tls) return undefined;
    const cert = socket.getPeerCertificate();
    const given = Object.keys(cert).length > 0;
    if (tls.clientAuth === 'RequireAnyClientCert' && !given) return 'no certificate';
    if (tls.clientAuth === 'VerifyClientCertIfGiven' && given && !socket.authorized)
      return String(socket.authorizationError);
    if (tls.allowedSans) {
      if (!given) return 'no certificate';
      const allowed = new Set(tls.allowedSans.map(canonicalIp));
      if (!certificateSans(cert.subjectaltname).some((san) => allowed.has(san)))
        return 'no SAN of the certificate is in client_allowed_sans';
    }
    return undefined;
  }

  for (const a of addresses) {
    const server = create(config.tls);
    // Before node:tls wraps the connection, so a rotated certificate is what this handshake uses.
    server.prependListener('connection', () => maybeReload());
    if (config.tls) {
      server.on('secureConnection', (socket: TLSSocket) => {
        const problem = clientCertProblem(socket);
        if (problem) {
          logger?.warn({ remote: socket.remoteAddress, reason: problem }, 'client certificate refused');
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
    servers.push(server);
    try {
      await new Promise<void>((resolveListen, reject) => {
        server.once('error', reject);
        server.listen(a.port, a.host, () => {
          server.off('error', reject);
          resolveListen();
        });
      });
    } catch (err) {
      servers.pop();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      metrics.remove();
      throw new Error(`--web.listen-address ${a.text}: ${(err as Error).message}`);
    }
  }
  const scheme = web.tls ? 'https' : 'http';
  const first = servers[0] as Server;
  return {
    server: first,
    servers,
    address: () => first.address() as AddressInfo,
    url(p = '/') {
      const a = first.address() as AddressInfo;
      const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      return `${scheme}://${h}:${a.port}${p}`;
    },
    async reload() {
      const ok = maybeReload(true);
      await applying;
      return ok && reloadOk === 1;
    },
    close: () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.close(() => r());
              s.closeAllConnections();
            }),
        ),
      ).then(() => metrics.remove()),
  };
}
