import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

export interface Received {
  id: string;
  type: string;
  body: Record<string, unknown>;
}

/**
 * A service-desk webhook receiver: verifies X-TillWatch-Signature-256 over the raw body, refuses
 * bad signatures with 401, can be told to fail the next N requests, and keeps every delivery
 * (including duplicates) so tests can count them by event id.
 */
export async function startReceiver(secret: string, port = 0) {
  const got: Received[] = [];
  const badSignatures: string[] = [];
  const state = { failNext: 0 };
  const app = express();
  app.use(express.raw({ type: () => true }));
  app.post('/hook', (req, res) => {
    const raw = req.body as Buffer;
    const expected = `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
    const sig = req.get('x-tillwatch-signature-256') ?? '';
    if (sig.length !== expected.length || !timingSafeEqual(Buffer.from(sig), Buffer.from(expected))) {
      badSignatures.push(sig);
      return res.status(401).end();
    }
    if (state.failNext > 0) {
      state.failNext--;
      return res.status(503).end();
    }
    got.push({ id: req.get('x-tillwatch-event-id') ?? '', type: req.get('x-tillwatch-event') ?? '', body: JSON.parse(raw.toString('utf8')) as Record<string, unknown> });
    res.status(204).end();
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    port: (server.address() as AddressInfo).port,
    got,
    badSignatures,
    state,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/**
 * A Redmine REST fake (not Redmine): the documented issue endpoints the adapter uses,
 * POST /issues.json and PUT /issues/{id}.json, with X-Redmine-API-Key auth and journals.
 */
export async function startRedmineFake(apiKey: string) {
  const issues = new Map<number, { id: number; project_id: string; subject: string; description: string; status_id: number; priority_id?: number; notes: string[] }>();
  const app = express();
  app.use(express.json());
  app.use((req, res, next) => (req.get('x-redmine-api-key') === apiKey ? next() : res.status(401).end()));
  app.post('/issues.json', (req, res) => {
    const i = (req.body as { issue?: Record<string, unknown> }).issue;
    if (!i?.project_id || !i.subject) return res.status(422).json({ errors: ['Subject cannot be blank'] });
    const id = issues.size + 1;
    issues.set(id, {
      id,
      project_id: String(i.project_id),
      subject: String(i.subject),
      description: String(i.description ?? ''),
      status_id: 1,
      ...(typeof i.priority_id === 'number' ? { priority_id: i.priority_id } : {}),
      notes: [],
    });
    res.status(201).json({ issue: { id, subject: i.subject } });
  });
  app.put('/issues/:id.json', (req, res) => {
    const is = issues.get(Number(req.params.id));
    if (!is) return res.status(404).end();
    const u = (req.body as { issue?: { notes?: string; status_id?: number } }).issue ?? {};
    if (u.notes) is.notes.push(u.notes);
    if (u.status_id) is.status_id = u.status_id;
    res.status(204).end();
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    issues,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
