// The simulator's control API (default port 9837): read and change emulated device state and inject
// faults over HTTP/JSON. Thin routes over the Emulator methods; one error middleware.
import express, { type Request } from 'express';
import { ZodError } from 'zod';
import type { Emulator } from './emulators/emulator.js';
import { ApiError, jsonErrors, serve, type Served } from './serve.js';

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

function describe(e: AnyEmulator) {
  return { id: e.id, kind: e.kind, address: e.address };
}

export function createControlApp(registry: DeviceRegistry): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '256kb' }));
  const device = (req: Request): AnyEmulator => {
    const e = registry.get(String(req.params.id));
    if (!e) throw new ApiError(404, 'unknown_device', `no device "${String(req.params.id)}"`);
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
  app.use((_req, _res, next) => next(new ApiError(404, 'not_found', 'no such endpoint')));
  app.use(
    jsonErrors((err) => {
      if (err instanceof ZodError) {
        const message = err.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
        return new ApiError(400, 'invalid_request', message);
      }
      return undefined;
    }),
  );
  return app;
}

export type ControlApi = Served;

export function startControlApi(
  registry: DeviceRegistry,
  port = 9837,
  host = '127.0.0.1',
): Promise<ControlApi> {
  return serve(createControlApp(registry), port, host);
}
