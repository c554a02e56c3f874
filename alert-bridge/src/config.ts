import { dirname, resolve } from 'node:path';
import { ConfigError, byteSize, formatKeyPath, loadYamlFile, parseWith } from '@tillwatch/config';
import { z } from 'zod';
import { MIN_KEY_LENGTH, apiSchema, authSchema, checkAuth } from './auth/config.js';
import { remediationSchema } from './actions/config.js';
import { Secret } from './secret.js';
import {
  secret,
  duration,
  parseDuration,
  priority,
  slaTimes,
  ianaZone,
  calendarSchema,
  slaPolicy,
  teamSchema,
  escalationPolicy,
  routeSchema,
  webhookTarget,
  redmineTarget,
  rtTarget,
  storageSchema,
  type Priority,
} from './config-parts.js';

export type { Priority };
export { parseDuration };

/** Raised for any configuration problem; the message names the file, the key and the reason. */
export { ConfigError };

const DEFAULT_SLA = {
  P1: { registration: 5 * 60_000, reaction: 15 * 60_000, resolution: 4 * 3_600_000 },
  P2: { registration: 15 * 60_000, reaction: 3_600_000, resolution: 24 * 3_600_000 },
  P3: { registration: 3_600_000, reaction: 4 * 3_600_000, resolution: 72 * 3_600_000 },
  P4: { registration: 4 * 3_600_000, reaction: 24 * 3_600_000, resolution: 7 * 86_400_000 },
};

export const configSchema = z.strictObject({
  listen: z.string().default('127.0.0.1:9836'),
  public_url: z.url().default('http://127.0.0.1:9836'),
  locale: z.enum(['ru', 'en']).default('ru'),
  // Times shown to people are in the store's zone; this one applies where the inventory names none.
  timezone: ianaZone.default('Europe/Moscow'),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Bounds on what one client can hold open: slow or idle connections cannot exhaust the process.
  http: z
    .strictObject({
      max_connections: z.number().int().positive().default(1024),
      headers_timeout: duration.default(parseDuration('10s')),
      request_timeout: duration.default(parseDuration('30s')),
      keep_alive_timeout: duration.default(parseDuration('65s')),
    })
    .prefault({}),
  knowledge_base: z.string().default('knowledge-base'),
  // The fleet inventory (tillwatch inventory format): store names, their tills and time zones.
  inventory: z.string().min(1).optional(),
  storage: storageSchema.default({ driver: 'sqlite', path: 'tillwatch-bridge.db', synchronous: 'full' }),
  webhook: z
    .strictObject({
      bearer_token: secret.optional(),
      basic_auth: z.strictObject({ username: z.string().min(1), password: secret }).optional(),
      // Bytes (1MiB): Express's own parser read "1M" or "512k" as 1 or 512 bytes (issue 23).
      max_body: byteSize.default(1024 * 1024),
      max_label_length: z.number().int().positive().default(1024),
    })
    .refine((w) => w.bearer_token !== undefined || w.basic_auth !== undefined, {
      message: 'needs bearer_token or basic_auth: an open webhook would let anyone create tickets',
    }),
  api: apiSchema,
  auth: authSchema,
  // The dead man's switch: Alertmanager sends the always-firing `alertname` every minute; with no
  // heartbeat for `timeout` the bridge opens a ticket of its own for `team` (null: off).
  watchdog: z
    .strictObject({
      alertname: z.string().min(1).default('Watchdog'),
      timeout: duration.nullable().default(null),
      team: z.string().min(1).default('software'),
    })
    .prefault({}),
  tickets: z
    .strictObject({
      reopen_window: duration.default(parseDuration('1h')),
      flap_window: duration.default(parseDuration('6h')),
      flap_threshold: z.number().int().positive().default(3),
      // Incident classes whose ticket covers the whole store even when the alerts carry a till label.
      store_scope_classes: z.array(z.string()).default([]),
      sweep_interval: duration.default(parseDuration('15s')),
      // Closed tickets, with their alerts and history, are deleted this long after closing.
      retention: duration.default(parseDuration('400d')),
    })
    .prefault({}),
  priority: z
    .strictObject({
      by_severity: z
        .strictObject({ critical: priority, warning: priority, info: priority })
        .default({ critical: 'P2', warning: 'P3', info: 'P4' }),
      by_class: z.record(z.string(), priority).default({}),
    })
    .prefault({}),
  sla: z
    .strictObject({
      P1: slaTimes.default(DEFAULT_SLA.P1),
      P2: slaTimes.default(DEFAULT_SLA.P2),
      P3: slaTimes.default(DEFAULT_SLA.P3),
      P4: slaTimes.default(DEFAULT_SLA.P4),
      calendars: z
        .record(
          z.string().regex(/^[a-z0-9_-]+$/, 'must be lower-case letters, digits, - or _'),
          calendarSchema,
        )
        .default({}),
      policies: z.array(slaPolicy).default([]),
    })
    .prefault({}),
  escalation: z.strictObject({ policies: z.array(escalationPolicy).default([]) }).prefault({}),
  routing: z
    .strictObject({
      routes: z.array(routeSchema).default([]),
      default_team: z.string().default('first-line'),
    })
    .prefault({}),
  teams: z.record(z.string(), teamSchema).default({}),
  telegram: z
    .strictObject({
      bot_token: secret,
      base_url: z.url().default('https://api.telegram.org'),
      // How the bot hears button presses and replies: long-polling getUpdates (no public URL needed),
      // Telegram calling `webhook_url`, or not at all (messages then carry no buttons).
      updates: z.enum(['off', 'poll', 'webhook']).default('off'),
      // Signs the buttons' callback data, so a press names only an action and a ticket the bridge offered.
      callback_key: z
        .string()
        .min(MIN_KEY_LENGTH, `must be at least ${MIN_KEY_LENGTH} characters (e.g. openssl rand -hex 16)`)
        .transform((s) => new Secret(s))
        .optional(),
      // getUpdates holds the request this long when there is nothing new (Telegram allows up to 50s).
      poll_timeout: duration
        .refine((ms) => ms >= 0 && ms <= 50_000, 'must be between 0s and 50s')
        .default(parseDuration('25s')),
      // Where Telegram posts updates (updates: webhook); default <public_url>/telegram/webhook.
      webhook_url: z.url().optional(),
      // Telegram sends it in X-Telegram-Bot-Api-Secret-Token; its own rules: 1-256 of A-Z a-z 0-9 _ -.
      webhook_secret: z
        .string()
        .regex(
          /^[A-Za-z0-9_-]{16,256}$/,
          'must be 16-256 letters, digits, "_" or "-" (Telegram\'s secret_token)',
        )
        .transform((s) => new Secret(s))
        .optional(),
      // A later event of a ticket edits its message in the chat while the message is this young; an
      // older one is far up the chat where nobody would see the change, so a new message is sent.
      edit_window: duration.default(parseDuration('48h')),
    })
    .optional(),
  email: z
    .strictObject({
      from: z.string().min(1),
      smtp: z.strictObject({
        host: z.string().min(1),
        port: z.number().int().positive().default(25),
        secure: z.boolean().default(false),
        username: z.string().optional(),
        password: secret.optional(),
        ignore_tls: z.boolean().default(false),
      }),
    })
    .optional(),
  notifications: z
    .strictObject({
      // Pending notifications to one chat/mailbox wait this long so a burst becomes one message.
      batch_wait: duration.default(parseDuration('2s')),
      // Minimum gap between two messages to one chat/mailbox.
      min_interval: duration.default(parseDuration('3s')),
      // Tickets listed in one message; the rest are summarised as "and N more".
      max_items: z.number().int().positive().default(10),
    })
    .prefault({}),
  forwarding: z
    .strictObject({
      targets: z.array(z.discriminatedUnion('type', [webhookTarget, redmineTarget, rtTarget])).default([]),
      retry_base: duration.default(parseDuration('1s')),
      retry_max: duration.default(parseDuration('5m')),
      timeout: duration.default(parseDuration('10s')),
      poll_interval: duration.default(parseDuration('500ms')),
      // Delivered outbox rows are kept this long (for inspection), then deleted by the sweeper.
      retention: duration.default(parseDuration('7d')),
      // A row still undelivered this long after its event is dead-lettered (counted, kept for inspection).
      dead_after: duration.default(parseDuration('24h')),
      // Dead and refused rows are kept this long, then deleted.
      dead_retention: duration.default(parseDuration('30d')),
      // Event ids of desks' changes (the inbound webhook's and the Redmine and RT polls') are kept this long: a desk
      // that sends one again within it changes nothing.
      desk_event_retention: duration.default(parseDuration('7d')),
    })
    .prefault({}),
  // One problem on many places at once (the OFD or EGAIS down for everyone, a bad POS update): one parent
  // ticket for the chain (or region) instead of a message per till.
  mass_incidents: z
    .strictObject({
      enabled: z.boolean().default(true),
      // Open tickets of one class on this many stores of one chain (or region), opened within `window`,
      // make a mass incident.
      min_stores: z.number().int().min(2).default(10),
      window: duration.default(parseDuration('10m')),
      scope: z.enum(['chain', 'region']).default('chain'),
      // A new ticket of such a class, once another store of its chain has it too, waits this long before it
      // is announced, so the first tickets of a storm are not each sent before the parent takes them in. A
      // fault on one store alone is sent at once.
      hold: duration.default(parseDuration('20s')),
      // The parent's growing counts reach people and desks at most this often.
      update_interval: duration.default(parseDuration('5m')),
      // The classes that can be mass incidents; by default those whose card says `shared_cause: true`.
      classes: z.array(z.string().min(1)).optional(),
    })
    .prefault({}),
  enrichment: z
    .strictObject({
      prometheus_url: z.url(),
      // External link base for Prometheus (defaults to prometheus_url).
      prometheus_public_url: z.url().optional(),
      grafana_url: z.url().optional(),
      dashboard_uid: z.string().default('tillwatch-till'),
      timeout: duration.default(parseDuration('3s')),
    })
    .optional(),
  // Remote actions on tills (issue 19): off unless configured.
  remediation: remediationSchema.optional(),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type WebhookTarget = z.infer<typeof webhookTarget>;
export type RedmineTarget = z.infer<typeof redmineTarget>;
export type RtTarget = z.infer<typeof rtTarget>;
export type ForwardTarget = Config['forwarding']['targets'][number];

// `${NAME}` in any string is replaced by the environment variable, so tokens stay out of the file.
// Only the bridge's config holds secrets, so this lives here rather than in the config kit.
function expandEnv(v: unknown, path: PropertyKey[], file: string, env: NodeJS.ProcessEnv): unknown {
  if (typeof v === 'string') {
    return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const val = env[name];
      if (val === undefined) {
        throw new ConfigError(file, {
          key: formatKeyPath(path),
          message: `environment variable ${name} is not set`,
        });
      }
      return val;
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => expandEnv(x, [...path, i], file, env));
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expandEnv(x, [...path, k], file, env)]));
  }
  return v;
}

/** Cross-checks of the `telegram` keys and the users' Telegram ids, run on the whole config. */
function checkTelegram(c: z.infer<typeof configSchema>, ctx: z.RefinementCtx): void {
  const tg = c.telegram;
  if (tg && tg.updates !== 'off' && !tg.callback_key)
    ctx.addIssue({
      code: 'custom',
      path: ['telegram', 'callback_key'],
      message: `required when telegram.updates is ${tg.updates} (it signs the buttons' callback data)`,
    });
  if (tg?.updates === 'webhook' && !tg.webhook_secret)
    ctx.addIssue({
      code: 'custom',
      path: ['telegram', 'webhook_secret'],
      message: 'required when telegram.updates is webhook (Telegram sends it with every update)',
    });
  const seen = new Map<number, string>();
  for (const [i, u] of c.auth.users.entries()) {
    if (u.telegram_id === undefined) continue;
    const other = seen.get(u.telegram_id);
    if (other !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'users', i, 'telegram_id'],
        message: `${u.telegram_id} is already ${other}'s: a Telegram account acts as one user`,
      });
    else seen.set(u.telegram_id, u.name);
  }
}

/** SLA policies name known calendars; escalation levels name webhook targets and configured channels. */
function checkService(c: z.infer<typeof configSchema>, ctx: z.RefinementCtx): void {
  for (const [i, p] of c.sla.policies.entries()) {
    if (p.calendar !== '24/7' && !Object.hasOwn(c.sla.calendars, p.calendar))
      ctx.addIssue({
        code: 'custom',
        path: ['sla', 'policies', i, 'calendar'],
        message: `unknown calendar "${p.calendar}": use "24/7" or a name under sla.calendars`,
      });
  }
  // A desk's name is the actor of the changes it makes: one name, one desk, and nobody's login.
  const people = new Set([...c.auth.users.map((u) => u.name), ...c.api.tokens.map((t) => t.name)]);
  const names = new Set<string>();
  for (const [i, t] of c.forwarding.targets.entries()) {
    if (names.has(t.name))
      ctx.addIssue({
        code: 'custom',
        path: ['forwarding', 'targets', i, 'name'],
        message: `"${t.name}" is already another target's name`,
      });
    names.add(t.name);
    const inbound =
      (t.type === 'webhook' && t.inbound) || ((t.type === 'redmine' || t.type === 'rt') && t.sync);
    if (inbound && people.has(t.name))
      ctx.addIssue({
        code: 'custom',
        path: ['forwarding', 'targets', i, 'name'],
        message: `"${t.name}" is also a user's or token's name: a desk's changes would read as that person's`,
      });
  }
  const webhooks = new Set(c.forwarding.targets.filter((t) => t.type === 'webhook').map((t) => t.name));
  for (const [i, p] of c.escalation.policies.entries()) {
    for (const [j, l] of p.levels.entries()) {
      const at = ['escalation', 'policies', i, 'levels', j];
      if (j > 0 && l.after < p.levels[j - 1]!.after)
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'after'],
          message: 'must not be earlier than the level before',
        });
      for (const [k, w] of l.webhook.entries())
        if (!webhooks.has(w))
          ctx.addIssue({
            code: 'custom',
            path: [...at, 'webhook', k],
            message: `"${w}" is not a forwarding target of type webhook`,
          });
      if (l.telegram.length && !c.telegram)
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'telegram'],
          message: 'needs the telegram section (the bot)',
        });
      if (l.email.length && !c.email)
        ctx.addIssue({ code: 'custom', path: [...at, 'email'], message: 'needs the email section (SMTP)' });
      if (!l.telegram.length && !l.email.length && !l.webhook.length)
        ctx.addIssue({
          code: 'custom',
          path: at,
          message: 'names nobody to notify (telegram, email or webhook)',
        });
    }
  }
}

export function parseConfig(raw: unknown, file = '<inline>', env: NodeJS.ProcessEnv = process.env): Config {
  return parseWith(
    configSchema.superRefine(checkAuth).superRefine(checkTelegram).superRefine(checkService),
    expandEnv(raw ?? {}, [], file, env),
    file,
  );
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const c = parseConfig(loadYamlFile(file), file, env);
  // Cards and the inventory ship beside the config, so a relative path means relative to the config file.
  return {
    ...c,
    knowledge_base: resolve(dirname(file), c.knowledge_base),
    ...(c.inventory !== undefined ? { inventory: resolve(dirname(file), c.inventory) } : {}),
    ...(c.remediation?.kill_switch_file !== undefined
      ? {
          remediation: {
            ...c.remediation,
            kill_switch_file: resolve(dirname(file), c.remediation.kill_switch_file),
          },
        }
      : {}),
  };
}
