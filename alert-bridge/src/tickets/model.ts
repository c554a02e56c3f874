import type { Insertable, Selectable } from 'kysely';
import type { TicketAlertsTable, TicketsTable } from '../db/schema.js';
import type { Target } from '../delivery/target.js';

/** A ticket row as stored. */
export type Ticket = Selectable<TicketsTable>;
/** A new ticket before the store gives it an id. */
export type NewTicket = Insertable<TicketsTable> & Omit<Ticket, 'id'>;
/** One alert of a ticket, keyed by (ticket_id, fingerprint). */
export type TicketAlert = Selectable<TicketAlertsTable>;
/** An alert row the lifecycle decided to write; the store fills in the ticket id. */
export type AlertWrite = Omit<TicketAlert, 'ticket_id'>;
export type TicketStatus = Ticket['status'];

export type EventKind =
  | 'created'
  | 'alert_joined'
  | 'acknowledged'
  | 'assigned'
  | 'commented'
  | 'resolved'
  | 'reopened'
  | 'merged'
  | 'escalated'
  | 'waiting'
  | 'resumed'
  | 'closed'
  | 'remediation';

export type OutgoingType =
  'ticket.created' | 'ticket.updated' | 'ticket.resolved' | 'ticket.reopened' | 'ticket.escalated';
export const OUTGOING_TYPES: readonly OutgoingType[] = [
  'ticket.created',
  'ticket.updated',
  'ticket.resolved',
  'ticket.reopened',
  'ticket.escalated',
];

/** Which outgoing event type a history event becomes for service desks and chats (null: none). */
export const OUTGOING: Readonly<Record<EventKind, OutgoingType | null>> = {
  created: 'ticket.created',
  alert_joined: 'ticket.updated',
  acknowledged: 'ticket.updated',
  assigned: 'ticket.updated',
  commented: 'ticket.updated',
  resolved: 'ticket.resolved',
  reopened: 'ticket.reopened',
  // A till's ticket taken into its store's ticket: for service desks it is done (`data.into` names where).
  merged: 'ticket.resolved',
  // Nobody acknowledged it in time: sent to the escalation level's own targets (EventSpec.targets) only.
  escalated: 'ticket.escalated',
  waiting: 'ticket.updated',
  resumed: 'ticket.updated',
  // Closing is bookkeeping after the reopen window; service desks already got ticket.resolved.
  closed: null,
  // Attempts of the automatic first step: on the ticket's history; the page that follows (or not) says it.
  remediation: null,
};

/** A history event the lifecycle asks to record (the store gives it an id and a time). */
export interface EventSpec {
  kind: EventKind;
  actor: string;
  data: Record<string, unknown>;
  /** Where the event goes instead of the fanout's targets for the team (an escalation's level). */
  targets?: readonly Target[];
  /**
   * The delivery target id of the service desk this change came from (`webhook:<name>`, `redmine:<name>`):
   * it is not sent back there (no echo loop); every other target hears of it as usual.
   */
  origin?: string;
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}
export class ConflictError extends Error {
  override name = 'ConflictError';
}

/** What one webhook notification did, per caller. */
export interface IngestResult {
  alerts: number;
  tickets: number[];
  created: number[];
  /** Problems whose alerts could not be stored for a reason a retry cannot fix (the rest were stored). */
  rejected: { key: string; alerts: number; reason: string }[];
}
