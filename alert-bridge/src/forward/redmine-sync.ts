import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { RedmineTarget } from '../config.js';
import type { Database } from '../db/schema.js';
import type { Metrics } from '../metrics.js';
import { DeskPoller } from './desk-poller.js';
import { ConflictError, NotFoundError, type DeskEvent, type TicketService } from '../tickets/index.js';

// A note longer than a comment may be is cut (the whole note stays in Redmine).
const MAX_TEXT = 10_000;

interface Journal {
  id: number;
  user?: { id: number; name?: string };
  notes?: string | null;
  created_on: string;
  details?: { property: string; name: string; old_value?: string | null; new_value?: string | null }[];
}
interface ChangedIssue {
  id: number;
  updated_on: string;
}

/** Redmine's form of a time in its API: UTC to the second. */
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Redmine's changes back into tickets (issue 18). Redmine has no outgoing webhooks, so this polls the
 * target's project for issues updated since the newest change it took (`updated_on>=`, with `overlap` to
 * spare for a change Redmine committed late), reads the journals of the issues the bridge created
 * (external_refs), and turns a person's journal into a ticket change: a status in `resolve_status_ids`
 * resolves the ticket (with the note), a note alone is a comment. The journal id is the change's event
 * id, so a journal is taken once however often polls overlap or replicas poll together; the journals of
 * the bridge's own Redmine user (its notes and status changes) are skipped, so nothing echoes. The cursor
 * is stored in the database after each complete pass: a restart neither misses nor repeats a change.
 */
export class RedmineSync extends DeskPoller {
  private readonly base: string;
  private me: number | undefined;
  private resolveIds: Set<number> | undefined;

  constructor(
    private readonly deps: {
      target: RedmineTarget;
      sync: NonNullable<RedmineTarget['sync']>;
      db: Kysely<Database>;
      tickets: TicketService;
      metrics: Metrics;
      logger: Logger;
      timeoutMs: number;
      changed(): void;
    },
  ) {
    super(`redmine:${deps.target.name}`, {
      interval: deps.sync.poll_interval,
      metrics: deps.metrics,
      logger: deps.logger,
    });
    this.base = deps.target.url.replace(/\/$/, '');
  }

  private async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      headers: { 'x-redmine-api-key': this.deps.target.api_key.reveal() },
      signal: AbortSignal.any([this.stopSignal, AbortSignal.timeout(this.deps.timeoutMs)]),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`redmine ${this.deps.target.name}: GET ${path.split('?')[0]}: HTTP ${res.status}`);
    }
    return (await res.json()) as T;
  }

  private issuesPath(extra: string): string {
    const project = encodeURIComponent(this.deps.target.project_id);
    return `/issues.json?project_id=${project}&status_id=*&${extra}`;
  }

  /** One pass: every change since the cursor, page by page, then the cursor moves on. */
  async poll(): Promise<void> {
    const { target, sync, db } = this.deps;
    this.me ??= (await this.get<{ user: { id: number } }>('/users/current.json')).user.id;
    if (!this.resolveIds) {
      const fromRedmine = sync.resolve_status_ids
        ? []
        : (
            await this.get<{ issue_statuses: { id: number; is_closed?: boolean }[] }>('/issue_statuses.json')
          ).issue_statuses
            .filter((s) => s.is_closed)
            .map((s) => s.id);
      this.resolveIds = new Set(sync.resolve_status_ids ?? [target.resolved_status_id, ...fromRedmine]);
    }
    const stored = await db
      .selectFrom('desk_cursors')
      .select('cursor')
      .where('desk', '=', this.desk)
      .executeTakeFirst();
    if (!stored) {
      // Sync just turned on: what people did in Redmine before is history, not news. Start at its newest change.
      const newest = await this.get<{ issues: ChangedIssue[] }>(
        this.issuesPath('sort=updated_on:desc&limit=1'),
      );
      await this.saveCursor(newest.issues[0]?.updated_on ?? new Date(0).toISOString());
      return;
    }
    const since = isoSeconds(Date.parse(stored.cursor) - sync.overlap);
    let from = since;
    let skip = 0;
    let newest = stored.cursor;
    const size = sync.page_size;
    // Keyset paging on updated_on: an issue updated during the pass moves past the page being read instead of
    // shifting the rest under an offset; `skip` steps over the issues of the same second already read.
    for (;;) {
      const page = await this.get<{ issues: ChangedIssue[] }>(
        this.issuesPath(
          `updated_on=${encodeURIComponent(`>=${from}`)}&sort=updated_on,id&limit=${size}&offset=${skip}`,
        ),
      );
      for (const issue of page.issues) {
        await this.take(issue, since);
        if (issue.updated_on > newest) newest = issue.updated_on;
      }
      if (page.issues.length < size) break;
      const last = page.issues[page.issues.length - 1]!.updated_on;
      const same = page.issues.filter((i) => i.updated_on === last).length;
      if (last === from) skip += same;
      else {
        from = last;
        skip = same;
      }
    }
    await this.saveCursor(newest);
  }

  private async saveCursor(cursor: string): Promise<void> {
    await this.deps.db
      .insertInto('desk_cursors')
      .values({ desk: this.desk, cursor, updated_at: Date.now() })
      .onConflict((oc) =>
        oc
          .column('desk')
          .doUpdateSet((eb) => ({
            cursor: eb.ref('excluded.cursor'),
            updated_at: eb.ref('excluded.updated_at'),
          }))
          // Only forward: another replica's pass may have gone further meanwhile.
          .where('desk_cursors.cursor', '<', (eb) => eb.ref('excluded.cursor')),
      )
      .execute();
  }

  /** The people's journals of one changed issue, if the bridge made it, as ticket changes. */
  private async take(issue: ChangedIssue, since: string): Promise<void> {
    const ref = await this.deps.db
      .selectFrom('external_refs')
      .select('ticket_id')
      .where('target', '=', this.desk)
      .where('external_id', '=', String(issue.id))
      .executeTakeFirst();
    if (!ref) return;
    const { issue: full } = await this.get<{ issue: { journals?: Journal[] } }>(
      `/issues/${issue.id}.json?include=journals`,
    );
    const journals = (full.journals ?? [])
      .filter((j) => j.user?.id !== this.me && j.created_on >= since)
      .sort((a, b) => a.id - b.id);
    for (const j of journals) {
      const e = this.eventOf(j, Number(ref.ticket_id));
      if (!e) continue;
      try {
        const out = await this.deps.tickets.deskEvent(e);
        this.deps.metrics.deskEvents.inc({ desk: this.desk, result: out.status });
        if (out.status === 'applied') {
          this.deps.changed();
          this.deps.logger.info(
            { desk: this.desk, issue: issue.id, journal: j.id, ticket: e.ticket, action: e.action },
            'desk change applied',
          );
        }
      } catch (err) {
        // A ticket deleted by retention, or a change it refuses: nothing to do, the poll goes on.
        if (!(err instanceof NotFoundError) && !(err instanceof ConflictError)) throw err;
        this.deps.metrics.deskEvents.inc({
          desk: this.desk,
          result: err instanceof NotFoundError ? 'not_found' : 'conflict',
        });
      }
    }
  }

  private eventOf(j: Journal, ticket: number): DeskEvent | undefined {
    const status = j.details?.find((d) => d.property === 'attr' && d.name === 'status_id');
    const notes = j.notes?.trim().slice(0, MAX_TEXT) || undefined;
    const common = {
      desk: this.deps.target.name,
      origin: this.desk,
      id: `journal:${j.id}`,
      ticket,
      person: j.user?.name?.slice(0, 200),
      lenient: true,
    };
    // A person closed the issue: the work is done. Forced, because the desk says so; if the till still has
    // the fault, the next notification reopens the ticket and the issue goes back to work.
    if (status && this.resolveIds!.has(Number(status.new_value)))
      return { ...common, action: 'resolve', text: notes, force: true };
    if (notes) return { ...common, action: 'comment', text: notes };
    return undefined;
  }
}
