import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { webhookPayloadSchema } from './alertmanager.js';
import type { Config } from './config.js';
import { openStore, type Store } from './db/connect.js';
import type { Sender } from './delivery.js';
import { takeSnapshot } from './enrich.js';
import { HttpError } from './errors.js';
import { redmineSender } from './forward/redmine.js';
import { webhookSender } from './forward/webhook.js';
import { listPage, ticketPage } from './html.js';
import { KnowledgeBase } from './knowledge-base.js';
import { createMetrics, type Metrics } from './metrics.js';
import { emailSender } from './notify/email.js';
import { telegramSender } from './notify/telegram.js';
import { Dispatcher } from './outbox.js';
import { ConflictError, NotFoundError, TicketService } from './tickets.js';

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

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function credentials(req: Request): { bearer?: string; user?: string; pass?: string } {
  const h = req.get('authorization') ?? '';
  const m = /^(Bearer|Basic)\s+(.+)$/i.exec(h.trim());
  if (!m) return {};
  if (m[1]!.toLowerCase() === 'bearer') return { bearer: m[2]! };
  const dec = Buffer.from(m[2]!, 'base64').toString('utf8');
  const i = dec.indexOf(':');
  return i < 0 ? {} : { user: dec.slice(0, i), pass: dec.slice(i + 1) };
}

const idParam = z.coerce.number().int().positive();
const listQuery = z.object({
  status: z
    .string()
    .transform((s) => s.split(','))
    .pipe(z.array(z.enum(['open', 'acknowledged', 'resolved', 'closed'])))
    .optional(),
  store: z.string().optional(),
  till: z.string().optional(),
  team: z.string().optional(),
  incident_class: z.string().optional(),
  chain: z.string().optional(),
  region: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
// Link templates fill unknown labels with "", which means "not given" here.
const given = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const placeQuery = z.strictObject({
  chain: given,
  region: given,
  store: given,
  till: given,
  device: given,
  alertname: given,
  incident_class: given,
});
const noteBody = z.object({ note: z.string().max(10_000).optional() }).default({});
const commentBody = z.object({ text: z.string().min(1).max(10_000) });

export async function createApp(config: Config, deps: AppDeps = {}): Promise<Bridge> {
  const logger = deps.logger ?? pino({ level: config.log_level, name: 'tillwatch-bridge' });
  const kb = deps.kb ?? KnowledgeBase.load(config.knowledge_base);
  const metrics = createMetrics();
  const store = await openStore(config.storage);
  const tickets = new TicketService({ store, config, kb, metrics, ...(deps.now ? { now: deps.now } : {}) });

  const senders = new Map<string, Sender>();
  const timeout = config.forwarding.timeout;
  if (config.telegram)
    senders.set('telegram', telegramSender(config.telegram, config.locale, config.public_url, timeout));
  const email = config.email
    ? emailSender(config.email, config.locale, config.public_url, timeout)
    : undefined;
  if (email) senders.set('email', email);
  // Each forwarding target gets its own sender keyed "<type>:<name>", matching the outbox target.
  const fwd = new Map<string, Sender>();
  for (const t of config.forwarding.targets) {
    fwd.set(
      `${t.type}:${t.name}`,
      t.type === 'webhook' ? webhookSender(t, timeout) : redmineSender(t, store.db, timeout),
    );
  }
  // Forwarding targets are looked up by full name ("webhook:desk"), channels by kind ("telegram").
  const routed: Map<string, Sender> = new Map([...senders, ...fwd]);
  const dispatcher = new Dispatcher({
    store,
    config,
    metrics,
    logger,
    senders: routed,
    ...(deps.now ? { now: deps.now } : {}),
  });

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
      res.status(503).json({ error: { code: 'storage_unavailable', message: (e as Error).message } });
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.set('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const webhookAuth = (req: Request, _res: Response, next: NextFunction) => {
    const c = credentials(req);
    const w = config.webhook;
    const ok =
      (w.bearer_token && c.bearer !== undefined && safeEqual(c.bearer, w.bearer_token.reveal())) ||
      (w.basic_auth &&
        c.user !== undefined &&
        safeEqual(c.user, w.basic_auth.username) &&
        safeEqual(c.pass ?? '', w.basic_auth.password.reveal()));
    if (!ok)
      return next(
        new HttpError('unauthorized', c.bearer || c.user ? 'wrong credentials' : 'missing credentials'),
      );
    next();
  };

  const pendingEnrichment = new Set<Promise<void>>();
  const enrich = (ids: number[]) => {
    const cfg = config.enrichment;
    if (!cfg) return;
    for (const id of ids) {
      const p = (async () => {
        try {
          const t = await tickets.get(id);
          await tickets.setSnapshot(id, await takeSnapshot(cfg, t));
          metrics.enrichment.inc({ result: 'success' });
        } catch (e) {
          metrics.enrichment.inc({ result: 'failure' });
          logger.warn({ ticket: id, err: (e as Error).message }, 'snapshot failed');
        }
      })();
      pendingEnrichment.add(p);
      void p.finally(() => pendingEnrichment.delete(p));
    }
  };

  app.post(
    '/webhook/alertmanager',
    webhookAuth,
    // Alertmanager always sends JSON; parse whatever the content type says so a proxy that
    // rewrites it does not turn alerts into 415s that Alertmanager would drop.
    express.json({ limit: config.webhook.max_body, type: () => true, strict: true }),
    async (req, res) => {
      const end = metrics.webhookDuration.startTimer();
      const parsed = webhookPayloadSchema.safeParse(req.body);
      if (!parsed.success) {
        const is = parsed.error.issues[0]!;
        throw new HttpError('invalid_payload', `${is.path.join('.') || '(body)'}: ${is.message}`);
      }
      const max = config.webhook.max_label_length;
      for (const [i, a] of parsed.data.alerts.entries()) {
        for (const [k, v] of [...Object.entries(a.labels), ...Object.entries(a.annotations)]) {
          if (k.length > max || v.length > max * 16) {
            throw new HttpError(
              'label_too_long',
              `alerts.${i}.${k}: longer than allowed (${max} chars for labels)`,
            );
          }
        }
        for (const [k, v] of Object.entries(a.labels)) {
          if (v.length > max)
            throw new HttpError('label_too_long', `alerts.${i}.labels.${k}: longer than ${max} chars`);
        }
      }
      if (parsed.data.truncatedAlerts > 0) {
        // Alertmanager's max_alerts dropped some alerts of this group; tickets may miss tills.
        logger.warn(
          { groupKey: parsed.data.groupKey, truncated: parsed.data.truncatedAlerts },
          'notification was truncated by Alertmanager',
        );
      }
      let result;
      try {
        result = await tickets.ingest(parsed.data);
      } catch (e) {
        logger.error({ err: e }, 'storing notification failed');
        throw new HttpError('storage_unavailable', 'could not store the notification; retry later');
      }
      for (const a of parsed.data.alerts) metrics.webhookAlerts.inc({ status: a.status });
      end();
      dispatcher.kick();
      enrich(result.created);
      res.json({ status: 'stored', alerts: result.alerts, tickets: result.tickets });
    },
  );

  const apiAuth =
    (scope: 'read' | 'write', ui = false) =>
    (req: Request, res: Response, next: NextFunction) => {
      const c = credentials(req);
      const given = c.bearer ?? c.pass;
      const tok =
        given === undefined ? undefined : config.api.tokens.find((t) => safeEqual(t.token.reveal(), given));
      if (!tok) {
        if (ui) res.set('www-authenticate', 'Basic realm="tillwatch"');
        return next(
          new HttpError('unauthorized', given === undefined ? 'missing API token' : 'unknown API token'),
        );
      }
      if (scope === 'write' && tok.scope !== 'write')
        return next(new HttpError('forbidden', `token "${tok.name}" is read-only`));
      res.locals.actor = tok.name;
      next();
    };

  const api = express.Router();
  api.use(express.json({ limit: '100kb' }));
  api.get('/tickets', apiAuth('read'), async (req, res) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success)
      throw new HttpError(
        'invalid_request',
        `${q.error.issues[0]!.path.join('.')}: ${q.error.issues[0]!.message}`,
      );
    res.json({ tickets: await tickets.list(q.data) });
  });
  const id = (req: Request) => {
    const r = idParam.safeParse(req.params.id);
    if (!r.success) throw new HttpError('not_found', `ticket ${String(req.params.id)} does not exist`);
    return r.data;
  };
  api.get('/tickets/:id', apiAuth('read'), async (req, res) => {
    res.json(await tickets.get(id(req)));
  });
  const body = <T>(schema: z.ZodType<T>, req: Request): T => {
    const r = schema.safeParse(req.body ?? {});
    if (!r.success)
      throw new HttpError(
        'invalid_request',
        `${r.error.issues[0]!.path.join('.') || '(body)'}: ${r.error.issues[0]!.message}`,
      );
    return r.data;
  };
  api.post('/tickets/:id/acknowledge', apiAuth('write'), async (req, res) => {
    const n = body(noteBody, req).note;
    await tickets.acknowledge(id(req), res.locals.actor as string, n);
    dispatcher.kick();
    res.json(await tickets.get(id(req)));
  });
  api.post('/tickets/:id/resolve', apiAuth('write'), async (req, res) => {
    const n = body(noteBody, req).note;
    await tickets.resolve(id(req), res.locals.actor as string, n);
    dispatcher.kick();
    res.json(await tickets.get(id(req)));
  });
  api.post('/tickets/:id/comments', apiAuth('write'), async (req, res) => {
    await tickets.comment(id(req), res.locals.actor as string, body(commentBody, req).text);
    dispatcher.kick();
    res.status(201).json(await tickets.get(id(req)));
  });
  app.use('/api/v1', api);

  app.get('/', (_req, res) => res.redirect('/ui'));
  app.get('/ui', apiAuth('read', true), async (_req, res) => {
    res.type('html').send(listPage(await tickets.list({ status: ['open', 'acknowledged'], limit: 500 })));
  });
  // The wall's "Ticket" link names a place (and maybe the alert): it opens the one live ticket about
  // that place, or the list of them when there are several or none.
  app.get('/ui/tickets', apiAuth('read', true), async (req, res) => {
    const q = placeQuery.safeParse(req.query);
    if (!q.success)
      throw new HttpError(
        'invalid_request',
        `${q.error.issues[0]!.path.join('.') || '(query)'}: ${q.error.issues[0]!.message}`,
      );
    const found = await tickets.forPlace(q.data);
    if (found.length === 1) return res.redirect(`/ui/tickets/${found[0]!.id}`);
    res.type('html').send(listPage(found, q.data));
  });
  app.get('/ui/tickets/:id', apiAuth('read', true), async (req, res) => {
    res.type('html').send(ticketPage(await tickets.get(id(req))));
  });

  app.use((_req, _res, next) => next(new HttpError('not_found', 'no such endpoint')));
  // One error middleware: every failure leaves as {error:{code,message}} with a stable code.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let e: HttpError;
    if (err instanceof HttpError) e = err;
    else if (err instanceof NotFoundError) e = new HttpError('not_found', err.message);
    else if (err instanceof ConflictError) e = new HttpError('conflict', err.message);
    else if ((err as { type?: string }).type === 'entity.too.large')
      e = new HttpError('payload_too_large', `body larger than ${config.webhook.max_body}`);
    else if ((err as { type?: string }).type === 'entity.parse.failed')
      e = new HttpError('invalid_json', `malformed JSON: ${(err as Error).message}`);
    else if ((err as { type?: string }).type === 'encoding.unsupported')
      e = new HttpError('unsupported_media_type', (err as Error).message);
    else {
      logger.error({ err }, 'unhandled error');
      e = new HttpError('internal', 'internal error');
    }
    if (req.path === '/webhook/alertmanager') metrics.webhookRejected.inc({ reason: e.code });
    if (res.headersSent) return;
    res.status(e.status).json({ error: { code: e.code, message: e.message } });
  });

  let server: Server | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  const bridge: Bridge = {
    app,
    config,
    store,
    tickets,
    dispatcher,
    metrics,
    logger,
    url: '',
    async start(listen = config.listen) {
      const { host, port } = splitHostPort(listen);
      await new Promise<void>((resolve, reject) => {
        server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve()));
      });
      const addr = server!.address() as AddressInfo;
      bridge.url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
      if (deps.background !== false) {
        dispatcher.start();
        const sweep = () =>
          tickets.sweep().catch((e: unknown) => logger.warn({ err: (e as Error).message }, 'sweep failed'));
        void sweep();
        sweepTimer = setInterval(sweep, config.tickets.sweep_interval);
      }
      logger.info({ url: bridge.url, storage: store.engine }, 'tillwatch-bridge listening');
      return bridge.url;
    },
    async stop() {
      clearInterval(sweepTimer);
      await dispatcher.stop();
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        });
      }
      await Promise.allSettled([...pendingEnrichment]);
      email?.close();
      await store.close();
    },
  };
  return bridge;
}
