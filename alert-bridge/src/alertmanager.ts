import { z } from 'zod';

// Alertmanager webhook payload, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
// Objects are non-strict on purpose: Alertmanager adds fields between versions
// (e.g. truncatedAlerts, and forks add routeLabels/notification_reason) and those must not be rejected.
// A label named `__proto__` is dropped by the record parser (zod assigns keys, which cannot make an own
// `__proto__`); the alert itself is kept. Prometheus never sends one: names starting with `__` are its
// internal labels, removed before alerts leave it. properties.test.ts holds this as the one exception.
const labelSet = z.record(z.string(), z.string());

const alert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: labelSet.default({}),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.string().default(''),
  generatorURL: z.string().default(''),
  fingerprint: z.string().optional(),
});

export const webhookPayloadSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelSet.default({}),
  commonLabels: labelSet.default({}),
  commonAnnotations: labelSet.default({}),
  externalURL: z.string().default(''),
  alerts: z.array(alert).max(10_000),
});

export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;
export type AmAlert = z.infer<typeof alert>;

/**
 * Text both engines store alike: NUL (PostgreSQL's text type refuses it) and lone UTF-16 surrogates
 * (not valid UTF-8) become U+FFFD. Without this a label with a NUL byte got a 503 on every retry on
 * PostgreSQL, blocking its Alertmanager group, and SQLite stored invalid UTF-8.
 */
export function storable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return (s.includes('\u0000') ? s.replace(/\u0000/g, '\uFFFD') : s).toWellFormed();
}

function storableRecord(r: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r)) out[storable(k)] = storable(v);
  return out;
}

/** The payload with every stored string made storable (see `storable`). */
export function storablePayload(p: WebhookPayload): WebhookPayload {
  return {
    ...p,
    externalURL: storable(p.externalURL),
    alerts: p.alerts.map((a) => ({
      ...a,
      labels: storableRecord(a.labels),
      annotations: storableRecord(a.annotations),
      ...(a.fingerprint !== undefined ? { fingerprint: storable(a.fingerprint) } : {}),
    })),
  };
}
