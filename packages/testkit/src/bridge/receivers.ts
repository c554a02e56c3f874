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
    got.push({
      id: req.get('x-tillwatch-event-id') ?? '',
      type: req.get('x-tillwatch-event') ?? '',
      body: JSON.parse(raw.toString('utf8')) as Record<string, unknown>,
    });
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
