import express, { type Router } from 'express';
import type { Logger } from 'pino';
import { storablePayload, webhookPayloadSchema, type WebhookPayload } from '../alertmanager.js';
import type { Config } from '../config.js';
import { HttpError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { IngestResult } from '../tickets/index.js';
import { webhookAuth } from './auth.js';

export interface WebhookDeps {
  config: Config;
  metrics: Metrics;
  logger: Logger;
  ingest(payload: WebhookPayload): Promise<IngestResult>;
  /** Runs after the notification is stored (wake the outbox, enrich new tickets). */
  stored(result: IngestResult): void;
}

/** Checks label sizes: a value over the limit would bloat every ticket, message and key. */
function checkSizes(payload: WebhookPayload, max: number): void {
  for (const [i, a] of payload.alerts.entries()) {
    for (const [k, v] of Object.entries(a.labels)) {
      if (k.length > max || v.length > max)
        throw new HttpError('label_too_long', `alerts.${i}.labels.${k}: longer than ${max} chars`);
    }
    for (const [k, v] of Object.entries(a.annotations)) {
      if (k.length > max || v.length > max * 16)
        throw new HttpError('label_too_long', `alerts.${i}.annotations.${k}: longer than ${max * 16} chars`);
    }
  }
}

/** POST /webhook/alertmanager: Alertmanager webhook v4, answered 200 only once committed. */
export function webhookRoutes(deps: WebhookDeps): Router {
  const { config, metrics, logger } = deps;
  const r = express.Router();
  r.post(
    '/webhook/alertmanager',
    webhookAuth(config),
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
      checkSizes(parsed.data, config.webhook.max_label_length);
      const payload = storablePayload(parsed.data);
      if (payload.truncatedAlerts > 0) {
        // Alertmanager's max_alerts dropped some alerts of this group; tickets may miss tills.
        logger.warn(
          { groupKey: payload.groupKey, truncated: payload.truncatedAlerts },
          'notification was truncated by Alertmanager',
        );
      }
      let result;
      try {
        result = await deps.ingest(payload);
      } catch (e) {
        // Only what a retry can fix gets here (see db/errors.ts): the store is down or timed out.
        logger.error({ err: e }, 'storing notification failed');
        throw new HttpError('storage_unavailable', 'could not store the notification; retry later');
      }
      end();
      if (result.rejected.length) {
        const n = result.rejected.reduce((s, r) => s + r.alerts, 0);
        metrics.alertsRejected.inc(n);
        logger.error({ groupKey: payload.groupKey, rejected: result.rejected }, 'alerts could not be stored');
      }
      const stored = payload.alerts.length - result.rejected.reduce((s, r) => s + r.alerts, 0);
      if (stored === 0) {
        throw new HttpError(
          'unprocessable_alerts',
          `no alert could be stored: ${result.rejected.map((r) => `${r.key}: ${r.reason}`).join('; ')}`.slice(
            0,
            2000,
          ),
        );
      }
      for (const a of payload.alerts) metrics.webhookAlerts.inc({ status: a.status });
      deps.stored(result);
      res.json({
        status: 'stored',
        alerts: result.alerts,
        tickets: result.tickets,
        ...(result.rejected.length
          ? { rejected: result.rejected.map((r) => ({ key: r.key, reason: r.reason })) }
          : {}),
      });
    },
  );
  return r;
}
