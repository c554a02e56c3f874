import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../config.js';
import type { Database } from '../db/schema.js';
import { identify } from '../identity.js';
import type { Incoming } from './lifecycle.js';
import type { EventSpec, Ticket } from './model.js';
import { chunks } from './sink.js';

type Db = Kysely<Database> | Transaction<Database>;
const LIVE = ['open', 'acknowledged', 'resolved'] as const;

/**
 * A store-level ticket gathers its family's till-level problems at that store: a store outage and the
 * unreachability of its tills are one problem for the engineer. Two halves: alerts of a till arriving
 * while the store's ticket is live join it (`route`), and till tickets already open when the store's
 * ticket is created are merged into it (`mergeTills`).
 */
export class StoreAbsorption {
  constructor(
    private readonly config: Config,
    private readonly familyOf: (incidentClass: string) => string,
  ) {}

  /** The store-level key of a till-level problem's alerts, or undefined for a store-level one. */
  private storeKeyOf(g: Incoming): string | undefined {
    const labels = g.alerts[0]!.labels;
    const id = identify(labels, this.config.tickets, this.familyOf);
    if (id.place.till === null || id.place.store === null) return undefined;
    const { till: _t, device: _d, ...rest } = labels;
    return identify(rest, this.config.tickets, this.familyOf).key;
  }

  /**
   * Moves the groups of till-level problems whose store has a live ticket of the same family onto that
   * ticket's key. `alias` records each moved key, so callers can answer with the ticket it went to.
   */
  async route(trx: Db, groups: Map<string, Incoming>, alias: Map<string, string>): Promise<void> {
    const wanted = new Map<string, string>();
    for (const [k, g] of groups) {
      const sk = this.storeKeyOf(g);
      if (sk !== undefined && sk !== k) wanted.set(k, sk);
    }
    if (wanted.size === 0) return;
    const storeKeys = [...new Set(wanted.values())];
    const live = new Set<string>();
    for (const part of chunks(storeKeys)) {
      const rows = await trx.selectFrom('tickets').select('open_key').where('open_key', 'in', part).execute();
      for (const r of rows) live.add(r.open_key!);
    }
    for (const [k, sk] of wanted) {
      if (!live.has(sk)) continue;
      const g = groups.get(k)!;
      const target = groups.get(sk);
      if (target) target.alerts.push(...g.alerts);
      else groups.set(sk, { key: sk, alerts: [...g.alerts], externalURL: g.externalURL });
      groups.delete(k);
      alias.set(k, sk);
    }
  }

  /**
   * Merges the live till tickets of the store ticket's family at its store into it: their alerts move
   * over, they close with a `merged` event, and the store ticket records which it took in.
   */
  async mergeTills(
    trx: Db,
    store: Ticket,
    now: number,
  ): Promise<{ closed: { ticket: Ticket; events: EventSpec[] }[]; joined?: EventSpec }> {
    if (store.till !== null || store.store === null) return { closed: [] };
    const tills = await trx
      .selectFrom('tickets')
      .selectAll()
      .where('family', '=', store.family)
      .where('store', '=', store.store)
      .$if(store.chain !== null, (q) => q.where('chain', '=', store.chain!))
      .where('till', 'is not', null)
      .where('status', 'in', LIVE)
      .execute();
    if (tills.length === 0) return { closed: [] };
    const ids = tills.map((t) => t.id);
    const moved = await trx.selectFrom('ticket_alerts').selectAll().where('ticket_id', 'in', ids).execute();
    if (moved.length) {
      await trx
        .insertInto('ticket_alerts')
        .values(moved.map((a) => ({ ...a, ticket_id: store.id })))
        .onConflict((oc) => oc.columns(['ticket_id', 'fingerprint']).doNothing())
        .execute();
      await trx.deleteFrom('ticket_alerts').where('ticket_id', 'in', ids).execute();
    }
    const closed = [];
    for (const t of tills) {
      const set = {
        status: 'closed' as const,
        open_key: null,
        closed_at: now,
        updated_at: now,
        version: t.version + 1,
      };
      await trx.updateTable('tickets').set(set).where('id', '=', t.id).execute();
      closed.push({
        ticket: { ...t, ...set },
        events: [{ kind: 'merged' as const, actor: 'bridge', data: { into: store.id } }],
      });
    }
    return {
      closed,
      joined: {
        kind: 'alert_joined',
        actor: 'bridge',
        data: { alerts: [...new Set(moved.map((a) => a.alertname))], merged: ids },
      },
    };
  }
}
