// The fleet's control API (JSON, default 127.0.0.1:9837): list the tills, inject and clear a fault
// on one till or a store. Thin routes over Fleet; errors are {"error": {"code", "message"}} naming
// the till, store or fault at fault, as in the devices control API.
import express, { type Request } from 'express';
import { jsonErrors, serve, type Served } from '../serve.js';
import { FleetError, type Fleet } from './fleet.js';

function faultFromBody(req: Request): string {
  const body = req.body as { fault?: unknown } | undefined;
  if (typeof body?.fault !== 'string')
    throw new FleetError(400, 'invalid_request', 'fault: required, e.g. {"fault": "paper_out"}');
  return body.fault;
}

export function createFleetControlApp(fleet: Fleet): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb' }));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', tills: fleet.tills.size });
  });
  app.get('/fleet', (_req, res) => {
    res.json({ speed: fleet.simulationSpeed, tills: fleet.list() });
  });
  app.get('/tills/:till', (req, res) => {
    const t = fleet.list().find((x) => x.till === req.params.till);
    if (!t) throw new FleetError(404, 'unknown_till', `unknown till "${req.params.till}"`);
    res.json(t);
  });
  app.post('/tills/:till/faults', (req, res) => {
    const fault = faultFromBody(req);
    fleet.addTillFault(req.params.till, fault);
    res.status(201).json({ till: req.params.till, fault });
  });
  app.delete('/tills/:till/faults/:fault', (req, res) => {
    fleet.clearTillFault(req.params.till, req.params.fault);
    res.status(204).end();
  });
  // What the demo's till agents run for restart_utm / restart_marking (simulator/hooks/restart-service.mjs).
  app.post('/tills/:till/services/:service/restart', (req, res) => {
    const cleared = fleet.restartService(req.params.till, req.params.service);
    res.json({ till: req.params.till, service: req.params.service, cleared });
  });
  app.post('/stores/:store/faults', async (req, res) => {
    const fault = faultFromBody(req);
    await fleet.addStoreFault(req.params.store, fault);
    res.status(201).json({ store: req.params.store, fault });
  });
  app.delete('/stores/:store/faults/:fault', async (req, res) => {
    await fleet.clearStoreFault(req.params.store, req.params.fault);
    res.status(204).end();
  });
  app.use((_req, _res, next) => next(new FleetError(404, 'not_found', 'no such endpoint')));
  app.use(jsonErrors());
  return app;
}

export type FleetControl = Served;

export function startFleetControl(fleet: Fleet, port = 9837, host = '127.0.0.1'): Promise<FleetControl> {
  return serve(createFleetControlApp(fleet), port, host);
}
