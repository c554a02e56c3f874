import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { startReceiver } from '@tillwatch/testkit/bridge';
import { CARDS_DIR, WEBHOOK_TOKEN, paperOut, payload, postWebhook, waitFor } from '@tillwatch/testkit/bridge';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

/** Starts the real CLI (through tsx) and resolves with its URL from the "listening" log line. */
function spawnBridge(configFile: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, '--config', configFile, '--web.listen-address', '127.0.0.1:0'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (l) => {
      try {
        const j = JSON.parse(l) as { msg?: string; url?: string };
        if (j.msg === 'tillwatch-bridge listening' && j.url) resolve({ child, url: j.url });
      } catch {
        /* not a log line */
      }
    });
    child.on('exit', (code) => reject(new Error(`bridge exited with ${code}: ${err}`)));
  });
}

describe('crash safety', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-crash-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILL after accepting notifications loses nothing: every event is delivered after restart, once', async () => {
    // Reserve a port for the service desk, then close it: the desk is down while the bridge accepts alerts.
    const probe = await startReceiver('k');
    const port = probe.port;
    await probe.close();
    const dbFile = join(dir, 'bridge.db');
    const cfg = join(dir, 'bridge.yml');
    writeFileSync(
      cfg,
      stringify({
        log_level: 'info',
        knowledge_base: CARDS_DIR,
        storage: { driver: 'sqlite', path: dbFile },
        webhook: { bearer_token: WEBHOOK_TOKEN },
        forwarding: {
          poll_interval: '50ms',
          retry_base: '50ms',
          retry_max: '300ms',
          targets: [{ name: 'desk', type: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret: 'k' }],
        },
      }),
    );

    const first = await spawnBridge(cfg);
    children.push(first.child);
    const stores = Array.from({ length: 15 }, (_, i) => `crash-${i}`);
    for (const s of stores)
      expect((await postWebhook(first.url, payload([paperOut('t1', s)]))).status).toBe(200);
    for (const s of stores.slice(0, 5)) {
      expect(
        (await postWebhook(first.url, payload([paperOut('t1', s, { status: 'resolved' })]))).status,
      ).toBe(200);
    }
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const db = new Database(dbFile, { readonly: true });
    const expected = (
      db.prepare("select event_id from outbox where target = 'webhook:desk'").all() as { event_id: string }[]
    ).map((r) => r.event_id);
    const undelivered = (
      db.prepare("select count(*) n from outbox where status = 'pending'").get() as { n: number }
    ).n;
    const tickets = (db.prepare('select count(*) n from tickets').get() as { n: number }).n;
    db.close();
    expect(tickets).toBe(15);
    expect(expected).toHaveLength(20); // 15 created + 5 resolved
    expect(undelivered).toBe(20); // killed between accepting and delivering

    const desk = await startReceiver('k', port);
    try {
      const second = await spawnBridge(cfg);
      children.push(second.child);
      await waitFor(() => desk.got.length >= expected.length, 'all events delivered after restart');
      // Give a duplicate (if the bridge were to send one) a moment to show up before counting.
      await waitFor(async () => {
        const d = new Database(dbFile, { readonly: true });
        const n = (
          d.prepare("select count(*) n from outbox where status != 'delivered'").get() as { n: number }
        ).n;
        d.close();
        return n === 0;
      }, 'outbox marked delivered');
      const ids = desk.got.map((g) => g.id).sort();
      expect(ids).toEqual([...expected].sort());
      expect(new Set(ids).size).toBe(ids.length);
      // Per ticket, created arrives before resolved.
      for (const s of stores.slice(0, 5)) {
        const types = desk.got
          .filter((g) => (g.body.ticket as { store: string }).store === s)
          .map((g) => g.type);
        expect(types).toEqual(['ticket.created', 'ticket.resolved']);
      }
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    } finally {
      await desk.close();
    }
  });
});
