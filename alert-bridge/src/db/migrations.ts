import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

// Migrations live in code (not files) so the built CLI carries them and both engines run the
// exact same list. Types are chosen to exist on SQLite and PostgreSQL alike.
const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      const pg = await isPostgres(db);
      const serial = pg ? 'bigserial' : 'integer';
      await db.schema
        .createTable('tickets')
        .addColumn('id', sql.raw(serial), (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('open_key', 'text', (c) => c.unique())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('priority', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('incident_class', 'text', (c) => c.notNull())
        .addColumn('team', 'text', (c) => c.notNull())
        .addColumn('chain', 'text')
        .addColumn('region', 'text')
        .addColumn('store', 'text')
        .addColumn('till', 'text')
        .addColumn('device', 'text')
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('needs_card', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('self_resolved', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('flapping', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('reopen_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('acknowledged_at', 'bigint')
        .addColumn('resolved_at', 'bigint')
        .addColumn('closed_at', 'bigint')
        .addColumn('registered_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('registration_due_at', 'bigint', (c) => c.notNull())
        .addColumn('reaction_due_at', 'bigint', (c) => c.notNull())
        .addColumn('resolution_due_at', 'bigint', (c) => c.notNull())
        .addColumn('registration_breached', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('reaction_breached', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('resolution_breached', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('annotations', 'text', (c) => c.notNull())
        .addColumn('snapshot', 'text')
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('tickets_key').on('tickets').column('key').execute();
      await db.schema.createIndex('tickets_status').on('tickets').columns(['status', 'store']).execute();

      await db.schema
        .createTable('ticket_alerts')
        .addColumn('ticket_id', 'bigint', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('alertname', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('annotations', 'text', (c) => c.notNull())
        .addColumn('starts_at', 'bigint', (c) => c.notNull())
        .addColumn('ends_at', 'bigint')
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('ticket_alerts_pk', ['ticket_id', 'fingerprint'])
        .execute();

      await db.schema
        .createTable('events')
        .addColumn('id', sql.raw(serial), (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('event_id', 'text', (c) => c.notNull().unique())
        .addColumn('ticket_id', 'bigint', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_ticket').on('events').columns(['ticket_id', 'id']).execute();

      await db.schema
        .createTable('outbox')
        .addColumn('id', sql.raw(serial), (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('ticket_id', 'bigint', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_until', 'bigint')
        .addColumn('lease_owner', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .addColumn('last_error', 'text')
        .addUniqueConstraint('outbox_event_target', ['event_id', 'target'])
        .execute();
      await db.schema
        .createIndex('outbox_pending')
        .on('outbox')
        .columns(['status', 'target', 'ticket_id', 'id'])
        .execute();

      await db.schema
        .createTable('external_refs')
        .addColumn('ticket_id', 'bigint', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('external_refs_pk', ['ticket_id', 'target'])
        .execute();
    },
  },
  '0002_people': {
    async up(db: Kysely<unknown>) {
      // Who works the ticket, and whether a person resolved it while its alerts still fired (the
      // next notification that still has them firing reopens it).
      await db.schema.alterTable('tickets').addColumn('assignee', 'text').execute();
      await db.schema
        .alterTable('tickets')
        .addColumn('forced_resolve', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
};

async function isPostgres(db: Kysely<unknown>): Promise<boolean> {
  try {
    await sql`select version()`.execute(db);
    return true;
  } catch {
    return false;
  }
}

migrations['0003_outbox_per_target'] = {
  async up(db: Kysely<unknown>) {
    // Rows no longer copy the ticket: the event is composed at delivery from the events and tickets
    // tables (a one-alert update of a 5,000-alert ticket wrote megabytes per target before).
    await db.schema.alterTable('outbox').dropColumn('payload').execute();
    await db.schema.alterTable('outbox').addColumn('dead_at', 'bigint').execute();
    // Each target drains on its own: pending rows of one target, oldest first.
    await db.schema
      .createIndex('outbox_target_pending')
      .on('outbox')
      .columns(['target', 'status', 'id'])
      .execute();
    await db.schema.createIndex('outbox_created').on('outbox').columns(['status', 'created_at']).execute();
    await db.schema.createIndex('tickets_closed').on('tickets').columns(['status', 'closed_at']).execute();
  },
};

migrations['0004_telegram'] = {
  async up(db: Kysely<unknown>) {
    // Which bot message carries which tickets, so a later event edits it and a press or a reply on it
    // finds its tickets. `chat_id` is the configured target (the sender looks up by it); `tg_chat_id` is
    // the chat's id as Telegram reports it in updates (the same, unless the config names a @channel).
    // `event_id`/`event_type` are what the message shows for the ticket, and `more` the message's
    // "and N more", so an edit re-renders the whole message as it was composed.
    await db.schema
      .createTable('telegram_messages')
      .addColumn('chat_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'bigint', (c) => c.notNull())
      .addColumn('ticket_id', 'bigint', (c) => c.notNull())
      .addColumn('tg_chat_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('more', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('sent_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('telegram_messages_pk', ['chat_id', 'message_id', 'ticket_id'])
      .execute();
    await db.schema
      .createIndex('telegram_messages_ticket')
      .on('telegram_messages')
      .columns(['chat_id', 'ticket_id', 'sent_at'])
      .execute();
    await db.schema
      .createIndex('telegram_messages_tg')
      .on('telegram_messages')
      .columns(['tg_chat_id', 'message_id'])
      .execute();
    // A press or a reply acted on once: Telegram may deliver an update again (a webhook retry, a poll
    // whose offset was not saved), and a comment must not be recorded twice.
    await db.schema
      .createTable('telegram_handled')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('telegram_handled_at').on('telegram_handled').column('at').execute();
    // One replica at a time polls a bot (Telegram ends one of two concurrent getUpdates with 409): a
    // lease per bot, and the offset of the next update so a replica taking over goes on from there.
    await db.schema
      .createTable('telegram_poll')
      .addColumn('bot', 'text', (c) => c.primaryKey())
      .addColumn('owner', 'text')
      .addColumn('lease_until', 'bigint', (c) => c.notNull())
      .addColumn('next_offset', 'bigint', (c) => c.notNull())
      .execute();
  },
};

migrations['0005_families'] = {
  async up(db: Kysely<unknown>) {
    // Related incident classes on one place share a ticket (knowledge-base families); a ticket may belong
    // to a mass incident (one problem on many places), whose own ticket is marked `mass`.
    await db.schema
      .alterTable('tickets')
      .addColumn('family', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await sql`update tickets set family = incident_class`.execute(db);
    await db.schema.alterTable('tickets').addColumn('parent_id', 'bigint').execute();
    await db.schema
      .alterTable('tickets')
      .addColumn('mass', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createIndex('tickets_family_place')
      .on('tickets')
      .columns(['family', 'chain', 'store', 'status'])
      .execute();
    await db.schema.createIndex('tickets_parent').on('tickets').columns(['parent_id']).execute();
  },
};

migrations['0006_mass'] = {
  async up(db: Kysely<unknown>) {
    // A mass incident counts the recent open tickets of one class in one chain on every new ticket of it.
    await db.schema
      .createIndex('tickets_class_chain_opened')
      .on('tickets')
      .columns(['incident_class', 'chain', 'opened_at'])
      .execute();
  },
};

migrations['0007_watchdog'] = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('heartbeats')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('last_seen', 'bigint', (c) => c.notNull())
      .addColumn('paging', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};

migrations['0008_service'] = {
  async up(db: Kysely<unknown>) {
    // Escalation of an unacknowledged ticket: how many steps were sent, when the last one was, and when
    // the unacknowledged clock started (null: at opening; a reopening restarts it).
    await db.schema
      .alterTable('tickets')
      .addColumn('escalation_step', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('tickets').addColumn('escalated_at', 'bigint').execute();
    await db.schema.alterTable('tickets').addColumn('escalation_base', 'bigint').execute();
    // Waiting for the client since (null: not waiting): the reaction and resolution clocks stand still.
    await db.schema.alterTable('tickets').addColumn('waiting_since', 'bigint').execute();
    // The monthly SLA report reads one chain's tickets opened in a month.
    await db.schema
      .createIndex('tickets_chain_opened')
      .on('tickets')
      .columns(['chain', 'opened_at'])
      .execute();
  },
};

migrations['0009_remediation_actions'] = {
  async up(db: Kysely<unknown>) {
    // Remote actions (issue 19): the ones queued for a till, handed out once and reported back; the
    // nonces tills signed requests with (a replay is refused on every replica); and on the ticket, how
    // long its first page is held for the automatic first step and whether that step fixed it.
    const pg = await isPostgres(db);
    const serial = pg ? 'bigserial' : 'integer';
    await db.schema
      .createTable('remediation_actions')
      .addColumn('id', sql.raw(serial), (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn('ticket_id', 'bigint')
      .addColumn('till', 'text', (c) => c.notNull())
      .addColumn('chain', 'text')
      .addColumn('incident_class', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('choice', 'text')
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('requested_by', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addColumn('exit_code', 'integer')
      .addColumn('reason', 'text')
      .addColumn('output', 'text')
      .execute();
    await db.schema
      .createIndex('remediation_actions_till')
      .on('remediation_actions')
      .columns(['till', 'status', 'id'])
      .execute();
    await db.schema
      .createIndex('remediation_actions_ticket')
      .on('remediation_actions')
      .columns(['ticket_id', 'id'])
      .execute();
    await db.schema
      .createTable('remediation_nonces')
      .addColumn('till', 'text', (c) => c.notNull())
      .addColumn('nonce', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('remediation_nonces_pk', ['till', 'nonce'])
      .execute();
    await db.schema.createIndex('remediation_nonces_at').on('remediation_nonces').column('at').execute();
    await db.schema.alterTable('tickets').addColumn('page_hold_until', 'bigint').execute();
    await db.schema.alterTable('tickets').addColumn('remediation_state', 'text').execute();
    await db.schema
      .alterTable('tickets')
      .addColumn('auto_remediated', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};

migrations['0010_desks'] = {
  async up(db: Kysely<unknown>) {
    // Service desks both ways (issue 18): the desks' changes already applied, by the desk's own event id
    // (a repeat within forwarding.desk_event_retention changes nothing, on every replica); each polled
    // desk's cursor (Redmine: the newest updated_on seen), so a restart neither misses nor repeats; and
    // the desk's issue id back to the ticket.
    await db.schema
      .createTable('desk_events')
      .addColumn('desk', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('ticket_id', 'bigint', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('desk_events_pk', ['desk', 'event_id'])
      .execute();
    await db.schema.createIndex('desk_events_at').on('desk_events').column('at').execute();
    await db.schema
      .createTable('desk_cursors')
      .addColumn('desk', 'text', (c) => c.primaryKey())
      .addColumn('cursor', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('external_refs_target_external')
      .on('external_refs')
      .columns(['target', 'external_id'])
      .execute();
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
