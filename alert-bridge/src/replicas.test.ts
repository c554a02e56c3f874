import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Bridge } from './app.js';
import { parseConfig } from './config.js';
import { KnowledgeBase } from './knowledge-base.js';
import {
  CARDS_DIR,
  PG_URL,
  api,
  paperOut,
  payload,
  postWebhook,
  testConfigRaw,
  testStorage,
  type TestStorage,
} from '@tillwatch/testkit/bridge';

describe('two bridge replicas on one PostgreSQL', () => {
  const storage = testStorage('postgres');
  const bridges: Bridge[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const b = await createApp(parseConfig(testConfigRaw(storage.raw)), {
        logger: pino({ level: 'silent' }),
        kb: KnowledgeBase.load(CARDS_DIR),
      });
      await b.start('127.0.0.1:0');
      bridges.push(b);
    }
  });
  afterAll(async () => {
    for (const b of bridges) await b.stop();
    await storage.cleanup();
  });

  it('receiving the same notifications concurrently make one ticket per problem', async () => {
    const stores = Array.from({ length: 10 }, (_, i) => `rep-${i}`);
    const sends = [];
    for (const s of stores) {
      // Both tills in one notification, sent to both replicas at once, twice (HA pair x replicas).
      const p = payload([paperOut('t1', s), paperOut('t2', s)]);
      for (let k = 0; k < 2; k++) for (const b of bridges) sends.push(postWebhook(b.url, p));
    }
    const answers = await Promise.all(sends);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const all = (
      await api<{ tickets: { id: number; store: string }[] }>(bridges[0]!.url, '/tickets?limit=1000')
    ).body.tickets;
    expect(all).toHaveLength(20);
    for (const t of all) {
      const d = (await api<{ events: { type: string }[] }>(bridges[1]!.url, `/tickets/${t.id}`)).body;
      expect(d.events.filter((e) => e.type === 'created')).toHaveLength(1);
    }
  });
});

describe('bridges starting on a PostgreSQL that other sessions change', () => {
  it('start together while another application creates and drops schemas in the same database', async () => {
    const other = new pg.Client({ connectionString: PG_URL });
    await other.connect();
    const churnName = `tw_churn_${process.pid}`;
    let churning = true;
    // Another tenant of the database: a schema with tables made and dropped as fast as it can.
    const churn = (async () => {
      for (let i = 0; churning; i++) {
        await other.query(`create schema ${churnName}_${i}`);
        await other.query(`create table ${churnName}_${i}.t (id bigserial primary key, v text)`);
        await other.query(`drop schema ${churnName}_${i} cascade`);
      }
    })();
    const made: TestStorage[] = [];
    const failures: string[] = [];
    try {
      // Rounds of three bridges in schemas of their own and two replicas of one, all at once, some
      // migrating while others find the schema made; each must start.
      for (let round = 0; round < 5; round++) {
        const shared = testStorage('postgres');
        const own = Array.from({ length: 3 }, () => testStorage('postgres'));
        made.push(shared, ...own);
        const started = await Promise.allSettled(
          [...own, shared, shared].map((s) =>
            createApp(parseConfig(testConfigRaw(s.raw)), {
              logger: pino({ level: 'silent' }),
              kb: KnowledgeBase.load(CARDS_DIR),
            }),
          ),
        );
        for (const r of started) {
          if (r.status === 'fulfilled') await r.value.stop();
          else failures.push(String(r.reason));
        }
      }
      expect(failures).toEqual([]);
    } finally {
      churning = false;
      await churn;
      await other.end();
      for (const s of made) await s.cleanup();
    }
  });
});
