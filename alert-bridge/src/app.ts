import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import cookieParser from 'cookie-parser';
import express from 'express';
import helmet from 'helmet';
import pino, { type Logger } from 'pino';
import { createCsrf } from './auth/csrf.js';
import { failureLimiter } from './auth/limit.js';
import { createLinkSigner, type LinkSigner } from './auth/links.js';
import { Watchdog } from './watchdog.js';
import { Directory } from './auth/principal.js';
import { createSessions, deriveKey } from './auth/session.js';
import type { Config } from './config.js';
import { openStore, type Store } from './db/connect.js';
import { Dispatcher } from './delivery/outbox.js';
import { Senders } from './delivery/sender.js';
import { takeSnapshot } from './enrich.js';
import { HttpError } from './errors.js';
import { redmineSender } from './forward/redmine.js';
import { rtSender } from './forward/rt.js';
import { RtSync } from './forward/rt-sync.js';
import { webhookSender } from './forward/webhook.js';
import { tillActionRoutes } from './actions/http.js';
import { apiRoutes } from './http/api.js';
import { deskRoutes } from './http/desk.js';
import { RedmineSync } from './forward/redmine-sync.js';
import { principalSession, type AuthDeps } from './http/auth.js';
import { errorHandler } from './http/errors.js';
import { uiRoutes } from './http/ui.js';
import { webhookRoutes } from './http/webhook.js';
import { KnowledgeBase } from './knowledge-base.js';
import { Places } from './places.js';
import { createMetrics, type Metrics } from './metrics.js';
import { emailSender } from './notify/email.js';
import { createTelegram, type TelegramBot } from './telegram/index.js';
import { TicketService } from './tickets/index.js';
import { markRegistered } from './tickets/held.js';
import { messagePage } from './ui/layout.js';
import { uiText } from './ui/text.js';

export interface AppDeps {
  logger?: Logger;
  /** Cards; by default loaded from config.knowledge_base. */
  kb?: KnowledgeBase;
  now?: () => number;
  /** Start the outbox dispatcher and sweeper timers (tests of pure ingest may turn them off). */
  background?: boolean;
}

export interface Bridge {
  app: express.Express;
  config: Config;
  store: Store;
  tickets: TicketService;
  /** Signs read-only ticket links for messages (when auth.links is configured). */
  links: LinkSigner | undefined;
  dispatcher: Dispatcher;
  metrics: Metrics;
  logger: Logger;
  /** Base URL once listening, e.g. http://127.0.0.1:40123 */
  url: string;
  start(listen?: string): Promise<string>;
  stop(): Promise<void>;
}

export function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = i > 0 ? listen.slice(0, i).replace(/^\[|\]$/g, '') : '0.0.0.0';
  const port = Number(listen.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`listen: "${listen}" is not HOST:PORT`);
  return { host, port };
}

function buildSenders(
  config: Config,
  store: Store,
  ticketLink: ((id: number) => string) | undefined,
  telegram: TelegramBot | undefined,
) {
  const senders = new Senders();
  const timeout = config.forwarding.timeout;
  if (telegram) senders.channel(telegram.sender);
  const email = config.email
    ? emailSender(config.email, config.locale, config.public_url, timeout, ticketLink)
    : undefined;
  if (email) senders.channel(email);
  for (const t of config.forwarding.targets) {
    if (t.type === 'webhook') senders.forward(t.name, webhookSender(t, timeout));
    else if (t.type === 'redmine')
      senders.forward(t.name, redmineSender(t, store.db, timeout, config.locale));
    else senders.forward(t.name, rtSender(t, store.db, timeout, config.locale));
  }
  return { senders, close: () => email?.close() };
}

/** Wires the bridge: storage, tickets, delivery, enrichment and the HTTP routes. */
export async function createApp(config: Config, deps: AppDeps = {}): Promise<Bridge> {
  const logger = deps.logger ?? pino({ level: config.log_level, name: 'tillwatch-bridge' });
  const kb = deps.kb ?? KnowledgeBase.load(config.knowledge_base);
  const metrics = createMetrics();
  const store = await openStore(config.storage);
  const now = deps.now ?? Date.now;
  const places = Places.load(config.inventory, config.timezone);
  const tickets = new TicketService({ store, config, kb, metrics, places, now });
  const links = config.auth.links ? createLinkSigner(config.auth.links, config.public_url) : undefined;
  const ticketLink = links && ((id: number) => links.signedTicketLink(id, now()));
  const telegram = createTelegram({
    config,
    store,
    tickets,
    metrics,
    logger,
    ticketLink,
    changed: () => dispatcher.kick(),
    now,
  });
  const { senders, close: closeSenders } = buildSenders(config, store, ticketLink, telegram);
  const dispatcher = new Dispatcher({
    store,
    config,
    metrics,
    logger,
    senders,
    targets: () => tickets.fanout.targetNames(),
    compose: (rows) => tickets.outgoing(rows),
    onRegistered: (trx, ids, at) => markRegistered(trx, ids, at),
    now,
  });

  // Desks without webhooks of their own: their changes are polled (Redmine and RT targets with `sync`).
  const deskPolls = config.forwarding.targets.flatMap((t): { start(): void; stop(): Promise<void> }[] => {
    const common = {
      db: store.db,
      tickets,
      metrics,
      logger,
      timeoutMs: config.forwarding.timeout,
      changed: () => dispatcher.kick(),
    };
    if (t.type === 'redmine' && t.sync) return [new RedmineSync({ ...common, target: t, sync: t.sync })];
    if (t.type === 'rt' && t.sync) return [new RtSync({ ...common, target: t, sync: t.sync })];
    return [];
  });

  const watchdog = new Watchdog({
    config,
    db: store.db,
    metrics,
    logger,
    ingest: async (p) => {
      const r = await tickets.ingest(p);
      dispatcher.kick();
      return r;
    },
    now,
  });

  const pendingEnrichment = new Set<Promise<void>>();
  const enrich = (ids: number[]) => {
    const cfg = config.enrichment;
    if (!cfg) return;
    for (const id of ids) {
      const p = (async () => {
        try {
          await tickets.setSnapshot(id, await takeSnapshot(cfg, await tickets.get(id)));
          metrics.enrichment.inc({ result: 'success' });
        } catch (e) {
          metrics.enrichment.inc({ result: 'failure' });
          logger.warn({ ticket: id, err: (e as Error).message }, 'snapshot failed');
        }
        // The first messages waited for this: send them now, with or without the facts.
        await tickets
          .release(id)
          .catch((e: unknown) =>
            logger.warn({ ticket: id, err: (e as Error).message }, 'releasing held messages failed'),
          );
        dispatcher.kick();
      })();
      pendingEnrichment.add(p);
      void p.finally(() => pendingEnrichment.delete(p));
    }
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((req, res, next) => {
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      metrics.httpRequests.inc({
        route: route ? `${req.baseUrl}${route}` : 'unmatched',
        code: String(res.statusCode),
      });
    });
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await store.ping();
      res.json({ status: 'ready' });
    } catch (e) {
      // The cause goes to the log; the unauthenticated answer names no host, user or SQL.
      logger.warn({ err: (e as Error).message }, 'not ready: storage does not answer');
      res.status(503).json({ error: { code: 'storage_unavailable', message: 'storage does not answer' } });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.set('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  // Pages and API: no inline script or style, no framing, no MIME sniffing, no referrer (a signed
  // link in the address bar must not travel to a runbook's site).
  const https = config.public_url.startsWith('https:');
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
      },
      frameguard: { action: 'deny' },
      strictTransportSecurity: https,
    }),
  );
  const directory = new Directory(config.auth, config.api);
  const sessionKey = config.auth.session.key?.reveal();
  const sessions = sessionKey ? createSessions(config.auth.session, https) : undefined;
  // Without a session key nobody logs in; CSRF tokens of the Basic-auth pages then use a key of this
  // process (a restart only makes an open form ask for a reload).
  const csrfKey = sessionKey ? deriveKey(sessionKey, 'csrf') : randomBytes(32).toString('base64url');
  app.use(cookieParser(sessionKey ? deriveKey(sessionKey, 'session') : undefined));
  app.use(
    failureLimiter(config.auth.failures, (after) =>
      messagePage({ L: uiText(config.locale) }, 'TillWatch', uiText(config.locale).errors.tooMany(after)),
    ),
  );
  const auth: AuthDeps = { directory, sessions, proxy: config.auth.proxy, now };
  app.use(
    webhookRoutes({
      config,
      metrics,
      logger,
      ingest: async (p) => {
        const rest = await watchdog.take(p);
        return rest.alerts.length
          ? tickets.ingest(rest)
          : { alerts: 0, tickets: [], created: [], rejected: [] };
      },
      stored: (r) => {
        dispatcher.kick();
        enrich(r.created);
      },
    }),
  );
  if (telegram?.routes) app.use(telegram.routes);
  if (config.remediation)
    app.use(tillActionRoutes({ remediation: tickets.remediation, db: store.db, metrics, logger, now }));
  // Before the API: desks sign their requests and carry no API token.
  app.use(
    '/api/v1/desk',
    deskRoutes({ config, tickets, metrics, logger, now, changed: () => dispatcher.kick() }),
  );
  app.use('/api/v1', apiRoutes({ tickets, auth, directory, changed: () => dispatcher.kick() }));
  app.use(
    uiRoutes({
      tickets,
      auth,
      directory,
      sessions,
      csrf: createCsrf({
        key: csrfKey,
        secure: https,
        sessionOf: (req) => principalSession(req) ?? 'anonymous',
      }),
      signer: links,
      locale: config.locale,
      now,
      changed: () => dispatcher.kick(),
    }),
  );
  app.use((_req, _res, next) => next(new HttpError('not_found', 'no such endpoint')));
  app.use(errorHandler(config, metrics, logger));

  let server: Server | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  const bridge: Bridge = {
    app,
    config,
    store,
    tickets,
    links,
    dispatcher,
    metrics,
    logger,
    url: '',
    async start(listen = config.listen) {
      const { host, port } = splitHostPort(listen);
      const h = config.http;
      const s = createServer(
        {
          headersTimeout: h.headers_timeout,
          requestTimeout: h.request_timeout,
          // Longer than Alertmanager's idle keep-alive, so it never reuses a socket the bridge just closed.
          keepAliveTimeout: h.keep_alive_timeout,
          // How often the two timeouts above are checked.
          connectionsCheckingInterval: Math.min(h.headers_timeout, 5_000),
        },
        app,
      );
      s.maxConnections = h.max_connections;
      // headersTimeout starts with the first byte: a socket that never sends one would keep its place
      // for ever, so it gets the same allowance from the moment it connects.
      s.on('connection', (sock: Socket) => {
        const silent = setTimeout(() => sock.destroy(), h.headers_timeout);
        sock.once('data', () => clearTimeout(silent));
        sock.once('close', () => clearTimeout(silent));
      });
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      const addr = server!.address() as AddressInfo;
      bridge.url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
      if (deps.background !== false) {
        dispatcher.start();
        telegram?.start();
        for (const p of deskPolls) p.start();
        const sweep = () =>
          Promise.all([tickets.sweep(), watchdog.check()]).catch((e: unknown) =>
            logger.warn({ err: (e as Error).message }, 'sweep failed'),
          );
        void sweep();
        sweepTimer = setInterval(sweep, config.tickets.sweep_interval);
      }
      logger.info({ url: bridge.url, storage: store.engine }, 'tillwatch-bridge listening');
      return bridge.url;
    },
    async stop() {
      clearInterval(sweepTimer);
      await telegram?.stop();
      await Promise.all(deskPolls.map((p) => p.stop()));
      await dispatcher.stop();
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
      await Promise.allSettled([...pendingEnrichment]);
      closeSenders();
      await store.close();
    },
  };
  return bridge;
}
