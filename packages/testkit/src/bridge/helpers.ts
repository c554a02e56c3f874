import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import {
  createApp,
  KnowledgeBase,
  parseConfig,
  type AppDeps,
  type Bridge,
  type Config,
} from '@tillwatch/alert-bridge';
import { waitFor as kitWaitFor } from '../wait.js';

export const CARDS_DIR = fileURLToPath(new URL('./cards', import.meta.url));
export const PG_URL = process.env.TILLWATCH_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
export const WEBHOOK_TOKEN = 'hook-secret';
export const READ_TOKEN = 'reader-secret-0123456789';
export const WRITE_TOKEN = 'writer-secret-0123456789';
export const ENGINES = ['sqlite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

export interface TestStorage {
  storage: Config['storage'];
  raw: unknown;
  cleanup(): Promise<void>;
}

/** A fresh SQLite file or a fresh PostgreSQL schema, so parallel test files never share rows. */
export function testStorage(engine: Engine, shared?: string): TestStorage {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tw-bridge-'));
    const raw = { driver: 'sqlite', path: join(dir, 'bridge.db') };
    return {
      storage: parseConfig({ ...minimal(), storage: raw }).storage,
      raw,
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = shared ?? `tw_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const raw = { driver: 'postgres', url: PG_URL, schema, pool_size: 5 };
  return {
    storage: parseConfig({ ...minimal(), storage: raw }).storage,
    raw,
    cleanup: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    },
  };
}

function minimal() {
  return { webhook: { bearer_token: WEBHOOK_TOKEN } };
}

export function testConfigRaw(
  storageRaw: unknown,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    listen: '127.0.0.1:0',
    locale: 'en',
    log_level: 'silent',
    knowledge_base: CARDS_DIR,
    storage: storageRaw,
    webhook: { bearer_token: WEBHOOK_TOKEN, basic_auth: { username: 'am', password: 'am-pass' } },
    api: {
      tokens: [
        { name: 'reader', token: READ_TOKEN, scope: 'read' },
        { name: 'alice', token: WRITE_TOKEN, scope: 'write' },
      ],
    },
    ...extra,
  };
}

export async function startBridge(
  engine: Engine,
  extra: Record<string, unknown> = {},
  deps: AppDeps = {},
): Promise<{ bridge: Bridge; storage: TestStorage; close(): Promise<void> }> {
  const storage = testStorage(engine);
  const config = parseConfig(testConfigRaw(storage.raw, extra));
  const bridge = await createApp(config, {
    logger: pino({ level: 'silent' }),
    kb: KnowledgeBase.load(CARDS_DIR),
    ...deps,
  });
  await bridge.start('127.0.0.1:0');
  return {
    bridge,
    storage,
    close: async () => {
      await bridge.stop();
      await storage.cleanup();
    },
  };
}

let seq = 0;
export interface AlertOpts {
  status?: 'firing' | 'resolved';
  startsAt?: string;
  endsAt?: string;
  annotations?: Record<string, string>;
}

export interface TestAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  [extra: string]: unknown;
}

export function alert(labels: Record<string, string>, opts: AlertOpts = {}): TestAlert {
  const status = opts.status ?? 'firing';
  return {
    status,
    labels: { severity: 'warning', chain: 'c1', region: 'r1', ...labels },
    annotations: { summary: `${labels.alertname ?? 'Alert'} summary`, ...opts.annotations },
    startsAt: opts.startsAt ?? '2026-01-01T10:00:00Z',
    endsAt: opts.endsAt ?? (status === 'resolved' ? '2026-01-01T10:30:00Z' : '0001-01-01T00:00:00Z'),
    generatorURL: 'http://prometheus/graph',
  };
}

export function payload(alerts: TestAlert[], extra: Record<string, unknown> = {}) {
  return {
    version: '4',
    groupKey: `{}:{g="${++seq}"}`,
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'bridge',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts,
    ...extra,
  };
}

export const paperOut = (till = 't1', store = 's1', opts: AlertOpts = {}) =>
  alert(
    {
      alertname: 'TillPaperOut',
      incident_class: 'fiscal.paper_out',
      store,
      till,
      device: 'kkt',
      team: 'hardware',
    },
    opts,
  );

export async function postWebhook(url: string, body: unknown, auth = `Bearer ${WEBHOOK_TOKEN}`) {
  const res = await fetch(`${url}/webhook/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: auth },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } },
  };
}

export async function api<T = Record<string, unknown>>(
  url: string,
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
) {
  const res = await fetch(`${url}/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? WRITE_TOKEN}`, 'content-type': 'application/json' },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** The kit's waitFor with this suite's argument order and truthiness (0 and '' mean "not yet"). */
export function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  return kitWaitFor(what, async () => (await fn()) || undefined, { timeoutMs, intervalMs: 50 });
}

/**
 * waitFor for what reaches a ticket through a poll pass of a real service desk (Redmine, RT): their requests
 * slow down a lot when the machine is loaded (the whole suite on two cores), so the bound is generous.
 */
export function waitForDesk<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
): Promise<T> {
  return waitFor(fn, what, 60_000);
}
