import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { WebhookPayload } from './alertmanager.js';
import type { Config } from './config.js';
import type { Database } from './db/schema.js';
import type { Metrics } from './metrics.js';
import type { IngestResult } from './tickets/index.js';

/** The ticket the bridge opens itself when Alertmanager falls silent. */
export const SILENT = {
  alertname: 'AlertingPipelineSilent',
  incident_class: 'meta.alertmanager_silent',
  fingerprint: 'tillwatch-watchdog',
} as const;

/**
 * The dead man's switch at the end of the alerting path. Prometheus fires `Watchdog` for ever and
 * Alertmanager sends it to the bridge every minute. When it stops coming (Alertmanager or Prometheus is
 * down, the webhook's token is wrong, a network path is cut), no other alert can reach anyone either, so
 * the bridge opens a ticket of its own and sends it through its own channels (Telegram, e-mail, desks);
 * when the heartbeat comes back the ticket resolves.
 *
 * The last heartbeat is kept in the database so every replica sees it, whichever one Alertmanager
 * reached; the ticket is an ordinary one with a fixed identity, so replicas that both page share it.
 */
export class Watchdog {
  private readonly started: number;

  constructor(
    private readonly deps: {
      config: Config;
      db: Kysely<Database>;
      metrics: Metrics;
      logger: Logger;
      ingest(payload: WebhookPayload): Promise<IngestResult>;
      now(): number;
    },
  ) {
    this.started = deps.now();
  }

  private get cfg() {
    return this.deps.config.watchdog;
  }

  get enabled(): boolean {
    return this.cfg.timeout !== null;
  }

  /**
   * Takes the heartbeat out of a notification (it is not a problem and makes no ticket) and records it;
   * returns the notification without it. A heartbeat ends the silence ticket, if there is one.
   */
  async take(payload: WebhookPayload): Promise<WebhookPayload> {
    const beats = payload.alerts.filter((a) => a.labels.alertname === this.cfg.alertname);
    if (beats.length === 0) return payload;
    if (beats.some((a) => a.status === 'firing')) {
      const now = this.deps.now();
      const row = await this.deps.db
        .selectFrom('heartbeats')
        .select('paging')
        .where('name', '=', this.cfg.alertname)
        .executeTakeFirst();
      await this.deps.db
        .insertInto('heartbeats')
        .values({ name: this.cfg.alertname, last_seen: now, paging: 0 })
        .onConflict((oc) => oc.column('name').doUpdateSet({ last_seen: now, paging: 0 }))
        .execute();
      this.deps.metrics.watchdogLastSeen.set(now / 1000);
      if (row?.paging) {
        this.deps.logger.info('the Watchdog heartbeat is back: resolving the silence ticket');
        await this.deps.ingest(this.silence('resolved', now));
      }
    }
    return { ...payload, alerts: payload.alerts.filter((a) => a.labels.alertname !== this.cfg.alertname) };
  }

  /** Run by the sweeper: opens the silence ticket once the heartbeat is older than `timeout`. */
  async check(): Promise<void> {
    const timeout = this.cfg.timeout;
    if (timeout === null) return;
    const now = this.deps.now();
    const row = await this.deps.db
      .selectFrom('heartbeats')
      .select(['last_seen', 'paging'])
      .where('name', '=', this.cfg.alertname)
      .executeTakeFirst();
    // Before the first heartbeat, the clock runs from the bridge's start.
    const last = Math.max(Number(row?.last_seen ?? 0), this.started);
    if (row?.last_seen) this.deps.metrics.watchdogLastSeen.set(Number(row.last_seen) / 1000);
    if (now - last <= timeout || row?.paging) return;
    this.deps.logger.error(
      { since: new Date(last).toISOString() },
      'no Watchdog heartbeat from Alertmanager: paging through the bridge’s own channels',
    );
    await this.deps.db
      .insertInto('heartbeats')
      .values({ name: this.cfg.alertname, last_seen: row?.last_seen ?? 0, paging: 1 })
      .onConflict((oc) => oc.column('name').doUpdateSet({ paging: 1 }))
      .execute();
    await this.deps.ingest(this.silence('firing', last + timeout));
  }

  private silence(status: 'firing' | 'resolved', at: number): WebhookPayload {
    const since = new Date(at).toISOString();
    return {
      version: '4',
      groupKey: `tillwatch-watchdog:${this.cfg.alertname}`,
      truncatedAlerts: 0,
      status,
      receiver: 'tillwatch-bridge',
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      externalURL: '',
      alerts: [
        {
          status,
          labels: {
            alertname: SILENT.alertname,
            incident_class: SILENT.incident_class,
            severity: 'critical',
            team: this.cfg.team,
          },
          annotations: {
            summary: `No ${this.cfg.alertname} heartbeat from Alertmanager: alerts cannot reach the bridge.`,
          },
          startsAt: status === 'firing' ? since : new Date(at - 1).toISOString(),
          endsAt: status === 'resolved' ? since : '0001-01-01T00:00:00Z',
          generatorURL: '',
          fingerprint: SILENT.fingerprint,
        },
      ],
    } as WebhookPayload;
  }
}
