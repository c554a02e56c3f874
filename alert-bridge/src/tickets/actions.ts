import { bump, type TicketChange } from './lifecycle.js';
import { ConflictError, type Ticket, type TicketAlert } from './model.js';

/**
 * What people (and the sweeper) do to a ticket, as pure functions of the stored ticket and its
 * alerts. Each returns the change to write or throws ConflictError with a sentence for the person.
 */

const firingNames = (alerts: readonly TicketAlert[]) =>
  [...new Set(alerts.filter((a) => a.status === 'firing').map((a) => a.alertname))].sort();

/** Takes an open ticket into work; whoever takes it becomes the assignee unless one is set. */
export function acknowledge(t: Ticket, actor: string, now: number, note?: string): TicketChange {
  if (t.status !== 'open')
    throw new ConflictError(`ticket ${t.id} is ${t.status}, only an open ticket can be acknowledged`);
  return {
    id: t.id,
    set: bump(t, { status: 'acknowledged', acknowledged_at: now, assignee: t.assignee ?? actor }, now),
    events: [{ kind: 'acknowledged', actor, data: note ? { note } : {} }],
  };
}

export interface ResolveOptions {
  note?: string | undefined;
  /** Resolve although alerts still fire; the next notification with one firing reopens the ticket. */
  force?: boolean | undefined;
}

/** A person resolves a ticket; refused while its alerts still fire unless forced. Never self_resolved. */
export function resolve(
  t: Ticket,
  alerts: readonly TicketAlert[],
  actor: string,
  now: number,
  opts: ResolveOptions = {},
): TicketChange {
  if (t.status !== 'open' && t.status !== 'acknowledged') {
    throw new ConflictError(
      `ticket ${t.id} is ${t.status}, only an open or acknowledged ticket can be resolved`,
    );
  }
  const firing = firingNames(alerts);
  if (firing.length > 0 && !opts.force) {
    throw new ConflictError(
      `ticket ${t.id} still has firing alerts (${firing.join(', ')}); resolve with force to close it anyway, ` +
        'it reopens if they are still firing at the next notification',
    );
  }
  return {
    id: t.id,
    set: bump(
      t,
      { status: 'resolved', resolved_at: now, self_resolved: 0, forced_resolve: firing.length ? 1 : 0 },
      now,
    ),
    events: [
      {
        kind: 'resolved',
        actor,
        data: {
          by: 'human',
          ...(opts.note ? { note: opts.note } : {}),
          ...(firing.length ? { forced: true, firing } : {}),
        },
      },
    ],
  };
}

/** A person reopens a resolved ticket (within the reopen window; a closed ticket stays closed). */
export function reopen(t: Ticket, actor: string, now: number, note?: string): TicketChange {
  if (t.status !== 'resolved')
    throw new ConflictError(`ticket ${t.id} is ${t.status}, only a resolved ticket can be reopened`);
  return {
    id: t.id,
    set: bump(
      t,
      {
        status: 'open',
        resolved_at: null,
        acknowledged_at: null,
        self_resolved: 0,
        forced_resolve: 0,
        reopen_count: t.reopen_count + 1,
        // Nobody has it again: the escalation clock starts over.
        escalation_step: 0,
        escalated_at: null,
        escalation_base: now,
      },
      now,
    ),
    events: [{ kind: 'reopened', actor, data: { by: 'human', ...(note ? { note } : {}) } }],
  };
}

/** Sets or clears who works the ticket. */
export function assign(t: Ticket, actor: string, now: number, assignee: string | null): TicketChange {
  if (t.status === 'closed') throw new ConflictError(`ticket ${t.id} is closed`);
  if (t.assignee === assignee)
    throw new ConflictError(`ticket ${t.id} is already assigned to ${assignee ?? 'nobody'}`);
  return {
    id: t.id,
    set: bump(t, { assignee }, now),
    events: [{ kind: 'assigned', actor, data: { assignee, previous: t.assignee } }],
  };
}

export function comment(t: Ticket, actor: string, now: number, text: string): TicketChange {
  return { id: t.id, set: bump(t, {}, now), events: [{ kind: 'commented', actor, data: { text } }] };
}

/** The sweeper closes a resolved ticket whose reopen window is over. */
export function close(t: Ticket, now: number): TicketChange | undefined {
  if (t.status !== 'resolved') return undefined;
  return {
    id: t.id,
    set: bump(t, { status: 'closed', open_key: null, closed_at: now }, now),
    events: [{ kind: 'closed', actor: 'bridge', data: {} }],
  };
}
