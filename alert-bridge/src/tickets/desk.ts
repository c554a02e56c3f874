import * as actions from './actions.js';
import type { TicketChange } from './lifecycle.js';
import type { Ticket, TicketAlert } from './model.js';

/** What a service desk may do to a ticket (the inbound webhook's `action`, a Redmine journal). */
export const DESK_ACTIONS = ['acknowledge', 'comment', 'resolve'] as const;
export type DeskAction = (typeof DESK_ACTIONS)[number];

/** One change a desk made, as the bridge applies it. */
export interface DeskEvent {
  /** The desk's name: the actor recorded on the ticket. */
  desk: string;
  /** The desk's delivery target id (`webhook:<name>`, `redmine:<name>`): the change is not sent back there. */
  origin: string;
  /** The desk's own id of the change: the same id is applied once. */
  id: string;
  ticket: number;
  action: DeskAction;
  /** The note of an acknowledge or resolve, the text of a comment. */
  text?: string | undefined;
  /** Who did it in the desk (its own user name), kept beside the desk's name. */
  person?: string | undefined;
  /** Resolve although the ticket's alerts still fire (it reopens if they still do at the next notification). */
  force?: boolean | undefined;
  /**
   * A polled desk reports what happened there, not a request: an action the ticket is no longer in a state
   * for (a resolve of a resolved ticket) changes nothing instead of being refused with ConflictError.
   */
  lenient?: boolean;
}

export type DeskOutcome =
  { status: 'applied'; ticket: Ticket } | { status: 'unchanged' } | { status: 'duplicate' };

/**
 * The change a desk event makes to a ticket: the people's actions with the desk as actor, the desk's person
 * in the event's data, and the desk as the change's origin. `resolveChange` is the service's resolve (it
 * also ends a wait for the client).
 */
export function deskChange(
  e: DeskEvent,
  t: Ticket,
  alerts: readonly TicketAlert[],
  now: number,
  resolveChange: (
    t: Ticket,
    alerts: readonly TicketAlert[],
    actor: string,
    now: number,
    opts: actions.ResolveOptions,
  ) => TicketChange,
): TicketChange | undefined {
  const live = t.status === 'open' || t.status === 'acknowledged';
  let c: TicketChange;
  switch (e.action) {
    case 'acknowledge':
      if (e.lenient && t.status !== 'open') return undefined;
      c = actions.acknowledge(t, e.desk, now, e.text);
      break;
    case 'resolve':
      if (e.lenient && !live) return undefined;
      c = resolveChange(t, alerts, e.desk, now, { note: e.text, force: e.force });
      break;
    case 'comment':
      c = actions.comment(t, e.desk, now, e.text ?? '');
      break;
  }
  const extra = { desk: e.desk, desk_event: e.id, ...(e.person ? { person: e.person } : {}) };
  return {
    ...c,
    events: c.events.map((ev) => ({ ...ev, origin: e.origin, data: { ...ev.data, ...extra } })),
  };
}
