import type { Kysely } from 'kysely';
import { DateTime } from 'luxon';
import type { Database } from '../db/schema.js';
import { slaOutcomes } from '../metrics.js';

export type DeadlineKind = 'registration' | 'reaction' | 'resolution';

/** The monthly service report of one client (chain): what a service company sends its client. */
export interface SlaReport {
  chain: string;
  month: string;
  /** The zone the month's bounds are taken in. */
  timezone: string;
  from: string;
  to: string;
  generated_at: string;
  tickets: number;
  by_class_priority: { incident_class: string; priority: string; tickets: number; self_resolved: number }[];
  /** Per deadline kind: met and breached deadlines; pending = not due yet and not done; share = met / decided. */
  on_time: { kind: DeadlineKind; met: number; breached: number; pending: number; share: number | null }[];
  worst_stores: { store: string; tickets: number; breached: number }[];
  worst_devices: { store: string; till: string | null; device: string | null; tickets: number }[];
  self_resolved: { resolved: number; self: number; share: number | null };
  /** Mean time to acknowledge and to resolve, seconds (null: none). */
  mtta_s: number | null;
  mttr_s: number | null;
}

export class ReportRequestError extends Error {
  override name = 'ReportRequestError';
}

const TOP = 10;
const share = (a: number, b: number) => (b > 0 ? a / b : null);
const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);

/** Bounds of `month` (YYYY-MM) in `zone`, as epoch milliseconds [from, to). */
export function monthBounds(month: string, zone: string): { from: number; to: number } {
  const start = DateTime.fromFormat(month, 'yyyy-MM', { zone });
  if (!/^\d{4}-\d{2}$/.test(month) || !start.isValid)
    throw new ReportRequestError(`month: expected YYYY-MM such as 2026-11, got "${month}"`);
  return { from: start.toMillis(), to: start.plus({ months: 1 }).toMillis() };
}

/**
 * The report over the chain's tickets opened in the month (mass-incident parents left out: their members
 * are the places). Deadlines still running at `now` are pending, not breached; a deadline past due and
 * not done is breached even while the ticket is open.
 */
export async function slaReport(
  db: Kysely<Database>,
  q: { chain: string; month: string; timezone: string; now: number },
): Promise<SlaReport> {
  const { from, to } = monthBounds(q.month, q.timezone);
  const rows = await db
    .selectFrom('tickets')
    .select([
      'status',
      'priority',
      'incident_class',
      'store',
      'till',
      'device',
      'self_resolved',
      'opened_at',
      'acknowledged_at',
      'resolved_at',
      'registered_at',
      'registration_due_at',
      'reaction_due_at',
      'resolution_due_at',
    ])
    .where('chain', '=', q.chain)
    .where('mass', '=', 0)
    .where('opened_at', '>=', from)
    .where('opened_at', '<', to)
    .execute();
  const ts = rows.map((r) => ({
    ...r,
    opened_at: Number(r.opened_at),
    acknowledged_at: r.acknowledged_at === null ? null : Number(r.acknowledged_at),
    resolved_at: r.resolved_at === null ? null : Number(r.resolved_at),
    registered_at: r.registered_at === null ? null : Number(r.registered_at),
    registration_due_at: Number(r.registration_due_at),
    reaction_due_at: Number(r.reaction_due_at),
    resolution_due_at: Number(r.resolution_due_at),
  }));

  const byCp = new Map<string, SlaReport['by_class_priority'][number]>();
  const onTime = new Map<DeadlineKind, { met: number; breached: number; pending: number }>(
    (['registration', 'reaction', 'resolution'] as const).map((k) => [
      k,
      { met: 0, breached: 0, pending: 0 },
    ]),
  );
  const stores = new Map<string, { tickets: number; breached: number }>();
  const devices = new Map<string, SlaReport['worst_devices'][number]>();
  let resolved = 0;
  let self = 0;
  const tta: number[] = [];
  const ttr: number[] = [];
  for (const t of ts) {
    const cp = `${t.incident_class}\u0000${t.priority}`;
    const c = byCp.get(cp) ?? {
      incident_class: t.incident_class,
      priority: t.priority,
      tickets: 0,
      self_resolved: 0,
    };
    c.tickets++;
    c.self_resolved += t.self_resolved;
    byCp.set(cp, c);
    const due: Record<DeadlineKind, number> = {
      registration: t.registration_due_at,
      reaction: t.reaction_due_at,
      resolution: t.resolution_due_at,
    };
    const done: Record<DeadlineKind, number | null> = {
      registration: t.registered_at,
      reaction: t.acknowledged_at ?? t.resolved_at,
      resolution: t.resolved_at,
    };
    let breachedAny = false;
    for (const o of slaOutcomes(t)) {
      const s = onTime.get(o.kind)!;
      if (o.met) s.met++;
      else if (done[o.kind] === null && due[o.kind] > q.now) s.pending++;
      else {
        s.breached++;
        breachedAny = true;
      }
    }
    if (t.store !== null) {
      const s = stores.get(t.store) ?? { tickets: 0, breached: 0 };
      s.tickets++;
      if (breachedAny) s.breached++;
      stores.set(t.store, s);
      if (t.till !== null || t.device !== null) {
        const k = `${t.store}\u0000${t.till ?? ''}\u0000${t.device ?? ''}`;
        const d = devices.get(k) ?? { store: t.store, till: t.till, device: t.device, tickets: 0 };
        d.tickets++;
        devices.set(k, d);
      }
    }
    if (t.resolved_at !== null) {
      resolved++;
      self += t.self_resolved;
      ttr.push((t.resolved_at - t.opened_at) / 1000);
    }
    if (t.acknowledged_at !== null) tta.push((t.acknowledged_at - t.opened_at) / 1000);
  }
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    chain: q.chain,
    month: q.month,
    timezone: q.timezone,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    generated_at: new Date(q.now).toISOString(),
    tickets: ts.length,
    by_class_priority: [...byCp.values()].sort(
      (a, b) => byName(a.incident_class, b.incident_class) || byName(a.priority, b.priority),
    ),
    on_time: [...onTime].map(([kind, s]) => ({ kind, ...s, share: share(s.met, s.met + s.breached) })),
    worst_stores: [...stores]
      .map(([store, s]) => ({ store, ...s }))
      .sort((a, b) => b.breached - a.breached || b.tickets - a.tickets || byName(a.store, b.store))
      .slice(0, TOP),
    worst_devices: [...devices.values()]
      .sort(
        (a, b) =>
          b.tickets - a.tickets ||
          byName(a.store, b.store) ||
          byName(a.till ?? '', b.till ?? '') ||
          byName(a.device ?? '', b.device ?? ''),
      )
      .slice(0, TOP),
    self_resolved: { resolved, self, share: share(self, resolved) },
    mtta_s: mean(tta),
    mttr_s: mean(ttr),
  };
}
