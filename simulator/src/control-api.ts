// The simulator's control API (default port 9837): read and change emulated device state and inject
// faults over HTTP/JSON. Thin routes over the Emulator methods; one error middleware.
import http from 'node:http';
import type net from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ZodError } from 'zod';
import type { Emulator } from './emulators/emulator.js';

export type AnyEmulator = Emulator<object>;

/** The devices the control API serves; the fleet simulator adds and removes them at run time. */
export class DeviceRegistry {
  private readonly byId = new Map<string, AnyEmulator>();

  add(e: AnyEmulator): void {
    if (this.byId.has(e.id)) throw new Error(`device id "${e.id}" already registered`);
    this.byId.set(e.id, e);
  }

  remove(id: string): boolean {
    return this.byId.delete(id);
  }

  get(id: string): AnyEmulator | undefined {
    return this.byId.get(id);
  }

  list(): AnyEmulator[] {
    return [...this.byId.values()];
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function describe(e: AnyEmulator) {
  return { id: e.id, kind: e.kind, address: e.address };
}

export function createControlApp(registry: DeviceRegistry): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '256kb' }));
  const device = (req: Request): AnyEmulator => {
    const e = registry.get(String(req.params.id));
    if (!e) throw new HttpError(404, 'unknown_device', `no device "${String(req.params.id)}"`);
    return e;
  };
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/devices', (_req, res) => {
    res.json(registry.list().map(describe));
  });
  app.get('/devices/:id', (req, res) => {
    const e = device(req);
    res.json({ ...describe(e), state: e.getState(), faults: e.listFaults() });
  });
  app.get('/devices/:id/state', (req, res) => {
    res.json(device(req).getState());
  });
  app.patch('/devices/:id/state', (req, res) => {
    res.json(device(req).patchState(req.body));
  });
  app.get('/devices/:id/faults', (req, res) => {
    res.json(device(req).listFaults());
  });
  app.post('/devices/:id/faults', (req, res) => {
    res.status(201).json(device(req).addFault(req.body));
  });
  app.delete('/devices/:id/faults', (req, res) => {
    device(req).clearFaults();
    res.status(204).end();
  });
  app.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'no such endpoint')));
  // Express needs the four-argument signature to recognise an error handler.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message } });
    } else if (err instanceof ZodError) {
      const message = err.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
      res.status(400).json({ error: { code: 'invalid_request', message } });
    } else if ((err as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'invalid_json', message: 'the body is not valid JSON' } });
    } else {
      res.status(500).json({ error: { code: 'internal', message: (err as Error).message } });
    }
  });
  return app;
}

export interface ControlApi {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startControlApi(
  registry: DeviceRegistry,
  port = 9837,
  host = '127.0.0.1',
): Promise<ControlApi> {
  const server = http.createServer(createControlApp(registry));
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as net.AddressInfo).port;
  return {
    port: bound,
    url: `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
