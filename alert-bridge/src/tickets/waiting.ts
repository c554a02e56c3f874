import { addWorkingTime, workingTimeBetween, type Calendar } from './calendar.js';
import { bump, type TicketChange } from './lifecycle.js';
import { ConflictError, type EventSpec, type Ticket } from './model.js';

/**
 * Waiting for the client: while a ticket says so, its reaction and resolution clocks stand still (the
 * sweeper counts no breach and sends no escalation). On resuming, each deadline not yet met keeps the
 * working time it had left when the wait began, counted on the ticket's SLA calendar from now.
 */
export function resumeSet(t: Ticket, cal: Calendar, now: number): Partial<Ticket> {
  const since = t.waiting_since;
  if (since === null) return {};
  const shift = (due: number, done: number | null) =>
    done !== null || due <= since ? due : addWorkingTime(cal, now, workingTimeBetween(cal, since, due));
  return {
    waiting_since: null,
    reaction_due_at: shift(t.reaction_due_at, t.acknowledged_at),
    resolution_due_at: shift(t.resolution_due_at, t.resolved_at),
  };
}

/** The event a resume records (also when resolving ends the wait). */
export function resumedEvent(t: Ticket, actor: string, now: number, note?: string): EventSpec {
  return {
    kind: 'resumed',
    actor,
    data: { waited_s: Math.round((now - (t.waiting_since ?? now)) / 1000), ...(note ? { note } : {}) },
  };
}

/** A person says the ticket waits for the client (an answer, access to the store, a part they supply). */
export function startWaiting(t: Ticket, actor: string, now: number, note?: string): TicketChange {
  if (t.status !== 'open' && t.status !== 'acknowledged')
    throw new ConflictError(`ticket ${t.id} is ${t.status}, only an open or acknowledged ticket can wait`);
  if (t.waiting_since !== null) throw new ConflictError(`ticket ${t.id} is already waiting for the client`);
  return {
    id: t.id,
    set: bump(t, { waiting_since: now }, now),
    events: [{ kind: 'waiting', actor, data: note ? { note } : {} }],
  };
}

/** The client answered: the SLA clocks run again, with the time they had left. */
export function resume(t: Ticket, actor: string, now: number, cal: Calendar, note?: string): TicketChange {
  if (t.waiting_since === null) throw new ConflictError(`ticket ${t.id} is not waiting for the client`);
  return {
    id: t.id,
    set: bump(t, resumeSet(t, cal, now), now),
    events: [resumedEvent(t, actor, now, note)],
  };
}
