import type { Generated } from 'kysely';

// Timestamps are stored as epoch milliseconds (bigint on PostgreSQL, integer on SQLite) so the
// same queries and comparisons run unchanged on both engines.
export interface TicketsTable {
  id: Generated<number>;
  key: string;
  // Equals `key` while the ticket is live (open, acknowledged, resolved within the reopen window);
  // NULL once closed. Its unique index is what makes concurrent replicas converge on one ticket.
  open_key: string | null;
  status: 'open' | 'acknowledged' | 'resolved' | 'closed';
  priority: string;
  severity: string;
  incident_class: string;
  team: string;
  chain: string | null;
  region: string | null;
  store: string | null;
  till: string | null;
  device: string | null;
  title: string;
  needs_card: number;
  self_resolved: number;
  flapping: number;
  reopen_count: number;
  opened_at: number;
  acknowledged_at: number | null;
  resolved_at: number | null;
  closed_at: number | null;
  registered_at: number | null;
  updated_at: number;
  registration_due_at: number;
  reaction_due_at: number;
  resolution_due_at: number;
  reaction_breached: number;
  resolution_breached: number;
  registration_breached: number;
  labels: string;
  annotations: string;
  snapshot: string | null;
  version: number;
  assignee: string | null;
  forced_resolve: number;
  /** The family of incident classes the ticket gathers (its key starts with it). */
  family: string;
  /** The mass incident this ticket belongs to; its own messages are then left to the parent. */
  parent_id: number | null;
  /** 1 for a mass incident: the parent of the same problem on many places. */
  mass: number;
  /** Escalation steps sent while nobody acknowledged the ticket (0: none). */
  escalation_step: number;
  /** When the last escalation step was sent. */
  escalated_at: number | null;
  /** When the unacknowledged clock started, if not at opening (a reopening restarts it). */
  escalation_base: number | null;
  /** Waiting for the client since (null: not waiting); the reaction and resolution clocks stand still. */
  waiting_since: number | null;
  /** Until when the first page waits for the automatic first step (remediation); null: not held. */
  page_hold_until: number | null;
  /** The automatic first step: pending, succeeded, failed (attempts used up), or null for none. */
  remediation_state: 'pending' | 'succeeded' | 'failed' | null;
  /** 1 when the alerts cleared after the automatic step succeeded, before anyone was paged. */
  auto_remediated: number;
}

export interface TicketAlertsTable {
  ticket_id: number;
  fingerprint: string;
  alertname: string;
  status: 'firing' | 'resolved';
  labels: string;
  annotations: string;
  starts_at: number;
  ends_at: number | null;
  last_seen_at: number;
}

export interface EventsTable {
  id: Generated<number>;
  event_id: string;
  ticket_id: number;
  type: string;
  at: number;
  actor: string;
  data: string;
}

export interface OutboxTable {
  id: Generated<number>;
  event_id: string;
  ticket_id: number;
  target: string;
  event_type: string;
  /** pending → delivered; failed: the receiver refused it for good; dead: undeliverable past forwarding.dead_after. */
  status: 'pending' | 'delivered' | 'failed' | 'dead';
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  lease_owner: string | null;
  created_at: number;
  delivered_at: number | null;
  dead_at: number | null;
  last_error: string | null;
}

export interface ExternalRefsTable {
  ticket_id: number;
  target: string;
  external_id: string;
}

export interface TelegramMessagesTable {
  chat_id: string;
  message_id: number;
  ticket_id: number;
  tg_chat_id: string;
  position: number;
  event_id: string;
  event_type: string;
  more: number;
  sent_at: number;
}

export interface TelegramHandledTable {
  key: string;
  at: number;
}

export interface TelegramPollTable {
  bot: string;
  owner: string | null;
  lease_until: number;
  next_offset: number;
}

export interface RemediationActionsTable {
  id: Generated<number>;
  /** The ticket that asked for it; null for none (kept for actions asked from elsewhere). */
  ticket_id: number | null;
  /** chain/store/till, as the till authenticates. */
  till: string;
  chain: string | null;
  incident_class: string;
  action: string;
  choice: string | null;
  attempt: number;
  /** `bridge` (a policy) or the person's name. */
  requested_by: string;
  /** queued → delivered → succeeded | failed | refused | dry_run; queued → expired (never fetched). */
  status: 'queued' | 'delivered' | 'succeeded' | 'failed' | 'refused' | 'dry_run' | 'expired';
  created_at: number;
  expires_at: number;
  delivered_at: number | null;
  finished_at: number | null;
  exit_code: number | null;
  reason: string | null;
  output: string | null;
}

export interface RemediationNoncesTable {
  till: string;
  nonce: string;
  at: number;
}

export interface Database {
  tickets: TicketsTable;
  ticket_alerts: TicketAlertsTable;
  events: EventsTable;
  outbox: OutboxTable;
  external_refs: ExternalRefsTable;
  telegram_messages: TelegramMessagesTable;
  telegram_handled: TelegramHandledTable;
  telegram_poll: TelegramPollTable;
  heartbeats: HeartbeatsTable;
  remediation_actions: RemediationActionsTable;
  remediation_nonces: RemediationNoncesTable;
  desk_events: DeskEventsTable;
  desk_cursors: DeskCursorsTable;
}

/** A desk's change already applied (or found not to apply), by the desk's own event id. */
export interface DeskEventsTable {
  /** The desk's target id (`webhook:<name>`, `redmine:<name>`). */
  desk: string;
  event_id: string;
  ticket_id: number;
  at: number;
}

/** Where a polled desk's next poll starts (Redmine: the newest `updated_on` it has taken). */
export interface DeskCursorsTable {
  desk: string;
  cursor: string;
  updated_at: number;
}

/** The Watchdog heartbeat from Alertmanager: when it was last seen, and whether its silence is paged. */
export interface HeartbeatsTable {
  name: string;
  last_seen: number;
  paging: number;
}
