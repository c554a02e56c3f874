import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Bridge } from './app.js';
import { parseConfig } from './config.js';
import { KnowledgeBase } from './knowledge-base.js';
import {
  CARDS_DIR,
  api,
  paperOut,
  payload,
  postWebhook,
  testConfigRaw,
  testStorage,
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
