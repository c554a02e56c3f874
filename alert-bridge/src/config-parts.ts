// The building blocks of the bridge's configuration schema (./config.ts): durations, secrets, SLA calendars
// and policies, teams and escalation, routes, forwarding targets and storage.
import { durationMs, parseDuration as parsePrometheusDuration } from '@tillwatch/config';
import { z } from 'zod';
import { Secret } from './secret.js';
import { parseRange, WEEKDAYS } from './tickets/calendar.js';

export const secret = z
  .string()
  .min(1, 'must not be empty')
  .transform((s) => new Secret(s));

export const duration = durationMs;

/** Milliseconds of a Prometheus duration written in code (the defaults below), so they read as documented. */
export function parseDuration(s: string): number {
  const ms = parsePrometheusDuration(s);
  if (ms === undefined) throw new Error(`bad duration ${s}`);
  return ms;
}

export const priority = z.enum(['P1', 'P2', 'P3', 'P4']);
export type Priority = z.infer<typeof priority>;

export const slaTimes = z.strictObject({ registration: duration, reaction: duration, resolution: duration });

export const ianaZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as Europe/Moscow or Asia/Yekaterinburg');

export const hoursRange = z.string().transform((s, ctx) => {
  try {
    return parseRange(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

// Business hours an SLA clock runs in: per weekday a list of local "HH:MM-HH:MM" ranges (a day not
// listed is closed), in an IANA zone, with holidays (local dates) on which it does not run.
export const calendarSchema = z
  .strictObject({
    timezone: ianaZone,
    hours: z.partialRecord(z.enum(WEEKDAYS), z.array(hoursRange)).default({}),
    holidays: z.array(z.iso.date()).default([]),
  })
  .refine((c) => Object.values(c.hours).some((r) => r && r.length > 0), {
    message: 'has no working hours on any weekday: its deadlines would never come',
  });

// One SLA policy: which tickets (chain, priorities; absent = any), on which calendar, with which due
// times (absent = sla.<priority>). The first policy that matches a ticket applies.
export const slaPolicy = z.strictObject({
  name: z.string().min(1).optional(),
  chain: z.string().min(1).optional(),
  priority: z.array(priority).min(1).optional(),
  calendar: z.string().min(1).default('24/7'),
  registration: duration.optional(),
  reaction: duration.optional(),
  resolution: duration.optional(),
});

export const telegramChannel = z.strictObject({
  chat_id: z.union([z.string(), z.number()]).transform(String),
});
export const emailChannel = z.strictObject({ to: z.array(z.string().email()).min(1) });

export const teamSchema = z.strictObject({
  telegram: z.array(telegramChannel).default([]),
  email: z.array(emailChannel).default([]),
});

// Escalation of a ticket nobody acknowledged: each level is notified once the ticket has been open
// and unacknowledged for its `after`, and every `repeat` after that until someone acknowledges it.
export const escalationLevel = z.strictObject({
  name: z.string().regex(/^[a-z0-9_-]+$/, 'must be lower-case letters, digits, - or _'),
  after: duration,
  telegram: z.array(telegramChannel).default([]),
  email: z.array(emailChannel).default([]),
  // Names of forwarding.targets of type webhook.
  webhook: z.array(z.string().min(1)).default([]),
});
export const escalationPolicy = z.strictObject({
  team: z.string().min(1).optional(),
  priority: z.array(priority).min(1).optional(),
  repeat: duration.refine((ms) => ms >= 60_000, 'must be at least 1m'),
  levels: z.array(escalationLevel).min(1),
});

export const routeSchema = z.strictObject({
  match: z.record(z.string(), z.string()).default({}),
  match_re: z.record(z.string(), z.string()).default({}),
  team: z.string().min(1),
});

// A desk's changes coming back (acknowledge, comment, resolve) on POST /api/v1/desk/<name>/events, signed
// with this desk's own secret (packages/config/src/action-signing.ts, "Desk events").
export const deskInbound = z.strictObject({
  secret: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
    .transform((s) => new Secret(s)),
  // A request whose timestamp is further than this from the bridge's clock is refused (replay protection,
  // with the event id that makes a repeat within the window change nothing).
  max_skew: duration
    .refine((ms) => ms > 0 && ms <= 3_600_000, 'must be between 1ms and 1h')
    .default(parseDuration('5m')),
});

export const webhookTarget = z.strictObject({
  name: z.string().regex(/^[a-z0-9_-]+$/, 'must be lower-case letters, digits, - or _'),
  type: z.literal('webhook'),
  url: z.url(),
  secret: secret.optional(),
  headers: z.record(z.string(), z.string()).default({}),
  // A JSON value whose strings may hold {{path}} placeholders (see docs/configuration.md).
  template: z.unknown().optional(),
  events: z
    .array(
      z.enum(['ticket.created', 'ticket.updated', 'ticket.resolved', 'ticket.reopened', 'ticket.escalated']),
    )
    .optional(),
  inbound: deskInbound.optional(),
});

// Redmine has no outgoing webhooks: the bridge polls the issues it created that changed since its last poll
// and turns people's status changes and notes into the ticket's resolve and comments.
export const redmineSync = z.strictObject({
  poll_interval: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default(parseDuration('1m')),
  // Statuses that resolve the ticket; default: resolved_status_id and every status Redmine marks closed.
  resolve_status_ids: z.array(z.number().int()).min(1).optional(),
  // Each poll looks this far behind the newest change it saw, for a change Redmine committed late (a
  // change already taken is not taken twice).
  overlap: duration.default(parseDuration('2m')),
  // Issues per page of the changed-issues query (Redmine serves at most 100, or its admin's lower limit).
  page_size: z.number().int().min(1).max(100).default(100),
});

export const redmineTarget = z.strictObject({
  name: z.string().regex(/^[a-z0-9_-]+$/, 'must be lower-case letters, digits, - or _'),
  type: z.literal('redmine'),
  url: z.url(),
  // Redmine looks up only alphanumeric API keys and treats any other as anonymous (401 on every call).
  api_key: z
    .string()
    .regex(/^[A-Za-z0-9]+$/, 'a Redmine API key is letters and digits only (My account → API access key)')
    .transform((s) => new Secret(s)),
  project_id: z.union([z.string(), z.number()]).transform(String),
  tracker_id: z.number().int().optional(),
  priority_ids: z.partialRecord(priority, z.number().int()).default({}),
  resolved_status_id: z.number().int().default(3),
  reopened_status_id: z.number().int().default(1),
  sync: redmineSync.optional(),
});

// Request Tracker 5 (REST 2, core since RT 5.0) has no outgoing webhooks either: the bridge polls the tickets it
// created in the queue that changed since its last poll, and takes people's replies, comments and status
// changes back; its own transactions (made as `user`) are skipped.
export const rtSync = z.strictObject({
  poll_interval: duration.refine((ms) => ms >= 100, 'must be at least 100ms').default(parseDuration('1m')),
  // RT statuses that resolve the ticket (RT's default lifecycle: resolved; rejected and deleted end it too).
  resolve_statuses: z.array(z.string().min(1)).min(1).default(['resolved', 'rejected']),
  // RT statuses a person moves a ticket into when they take it on: the ticket is acknowledged.
  acknowledge_statuses: z.array(z.string().min(1)).default(['open']),
  // Each poll looks this far behind the newest change it saw (RT's LastUpdated has whole seconds, and a
  // change committed late must not be missed; a change already taken is not taken twice).
  overlap: duration.default(parseDuration('2m')),
  // Tickets per page of the changed-tickets search (RT's REST 2 serves at most 100).
  page_size: z.number().int().min(1).max(100).default(100),
});

export const rtTarget = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9_-]+$/, 'must be lower-case letters, digits, - or _'),
    type: z.literal('rt'),
    // RT's web root, e.g. https://rt.example.com/ (the REST 2 API is under REST/2.0/).
    url: z.url(),
    // The RT user the bridge acts as: its transactions are recognised by this name and never taken back.
    user: z.string().min(1, 'must not be empty'),
    // An auth token of that user (RT: Logged in as → Settings → Auth Tokens), or the user's password.
    token: z
      .string()
      .regex(/^\d+-\d+-[0-9a-f]{32}$/, 'an RT auth token looks like 1-23-0123456789abcdef0123456789abcdef')
      .transform((s) => new Secret(s))
      .optional(),
    password: secret.optional(),
    queue: z.string().min(1, 'must not be empty'),
    // RT priorities are numbers (0-99 in the default lifecycle); unset priorities keep the queue's default.
    priorities: z.partialRecord(priority, z.number().int().min(0)).default({}),
    // Later events as correspondence (the default: the ticket is the bridge's request, so its updates are the
    // requestor's correspondence, which RT's views and "last reply" track) or as comments (staff-only notes,
    // for a queue whose watchers should not be mailed on every update).
    updates_as: z.enum(['correspond', 'comment']).default('correspond'),
    resolved_status: z.string().min(1).default('resolved'),
    reopened_status: z.string().min(1).default('open'),
    sync: rtSync.optional(),
  })
  .superRefine((t, ctx) => {
    if (!t.token === !t.password)
      ctx.addIssue({
        code: 'custom',
        path: ['token'],
        message: "give exactly one of token or password (the RT user's auth token is the better one)",
      });
  });

export const storageSchema = z.discriminatedUnion('driver', [
  z.strictObject({
    driver: z.literal('sqlite'),
    path: z.string().min(1).default('tillwatch-bridge.db'),
    // full: each commit is fsynced before the webhook answers (survives power loss);
    // normal: survives a crash of the process but not of the machine, for less I/O.
    synchronous: z.enum(['full', 'normal']).default('full'),
  }),
  z.strictObject({
    driver: z.literal('postgres'),
    url: secret,
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'must be a plain lower-case identifier')
      .optional(),
    pool_size: z.number().int().positive().default(10),
    // A stalled network or a frozen server must become a quick 503 that Alertmanager retries, not a
    // webhook that hangs: bounds on connecting and on each statement (server- and client-side).
    connect_timeout: duration.default(parseDuration('5s')),
    statement_timeout: duration.default(parseDuration('10s')),
  }),
]);
