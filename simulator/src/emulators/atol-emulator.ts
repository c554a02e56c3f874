// The ATOL driver's web server (JSON tasks over HTTP, default port 16732), as docs/protocols/atol.md
// describes it. The result wrapper's exact shape is unconfirmed, so the emulator can answer in each shape
// the exporter accepts (docs/protocols/atol.md, "Result shapes").
import express, { type Express } from 'express';
import { z } from 'zod';
import { HTTP_FAULTS, HttpEmulator, type HttpEmulatorOptions } from './http-emulator.js';
import { defaultFiscalState, fiscalStateSchema, shiftExpired, type FiscalState } from './fiscal-state.js';

export const ATOL_SHAPES = ['nested', 'flat', 'bare'] as const;
export type AtolShape = (typeof ATOL_SHAPES)[number];

export const atolStateSchema = fiscalStateSchema.extend({
  resultShape: z.enum(ATOL_SHAPES),
  /** GETs answered "inProgress" before a task is ready (exercises the client's polling). */
  pendingPolls: z.number().int().min(0).max(100),
});
export type AtolState = z.infer<typeof atolStateSchema>;

export interface AtolEmulatorOptions extends HttpEmulatorOptions {
  state?: Partial<AtolState>;
  /** Basic auth the web server demands; none when absent. */
  username?: string;
  password?: string;
}

interface Job {
  tasks: string[];
  polls: number;
  results: Array<{
    status: string;
    errorCode: number;
    errorDescription: string;
    result: Record<string, unknown>;
  }>;
}

const FN_TASKS = new Set(['getFnInfo', 'getFnFreeMemory', 'ofdExchangeStatus']);

export class AtolEmulator extends HttpEmulator<AtolState> {
  readonly kind = 'atol' as const;
  protected readonly stateSchema = atolStateSchema;
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly atolOpts: AtolEmulatorOptions = {}) {
    const now = atolOpts.now ?? Date.now;
    super(
      atolOpts,
      'atol',
      atolStateSchema.parse({
        ...defaultFiscalState(Math.floor(now() / 1000)),
        model: 'АТОЛ 30Ф',
        resultShape: 'nested',
        pendingPolls: 1,
        ...atolOpts.state,
      }),
      [...HTTP_FAULTS, 'error_byte'],
    );
  }

  protected routes(app: Express): void {
    app.use(express.json({ limit: '1mb' }));
    app.use((req, res, next) => {
      if (this.atolOpts.username === undefined) return next();
      const want = `Basic ${Buffer.from(`${this.atolOpts.username}:${this.atolOpts.password ?? ''}`).toString('base64')}`;
      if (req.headers.authorization !== want) {
        res.status(401).set('www-authenticate', 'Basic').send('Unauthorized');
        return;
      }
      next();
    });
    app.post('/api/v2/requests', (req, res) => {
      const body = req.body as { uuid?: unknown; request?: unknown };
      const list = Array.isArray(body?.request) ? body.request : body?.request ? [body.request] : [];
      if (typeof body?.uuid !== 'string' || list.length === 0) {
        res.status(400).json({ error: { code: 400, description: 'uuid and request are required' } });
        return;
      }
      if (this.jobs.has(body.uuid)) {
        res.status(409).json({ error: { code: 409, description: 'uuid already used' } });
        return;
      }
      const tasks = list.map((t: unknown) => String((t as { type?: unknown })?.type ?? ''));
      this.jobs.set(body.uuid, { tasks, polls: 0, results: tasks.map((t) => this.runTask(t)) });
      // Forget old jobs so a long-running simulator does not grow.
      if (this.jobs.size > 1000) this.jobs.delete(this.jobs.keys().next().value as string);
      res.status(201).json({ uuid: body.uuid, number: this.jobs.size });
    });
    app.get('/api/v2/requests/:uuid', (req, res) => {
      const job = this.jobs.get(req.params.uuid);
      if (!job) {
        res.status(404).json({ error: { code: 404, description: 'no such request' } });
        return;
      }
      job.polls += 1;
      const shape = this.state.resultShape;
      if (job.polls <= this.state.pendingPolls) {
        res.json({
          results: job.tasks.map(() => ({
            status: 'inProgress',
            errorCode: 0,
            errorDescription: '',
            result: null,
          })),
        });
        return;
      }
      if (shape === 'bare') {
        res.json(Object.assign({}, ...job.results.map((r) => r.result)));
        return;
      }
      res.json({
        results: job.results.map((r) => ({
          ...r,
          result: shape === 'flat' ? flatten(r.result) : r.result,
        })),
      });
    });
  }

  private runTask(type: string): Job['results'][number] {
    const s: FiscalState = this.state;
    // Only error_byte acts per task; HTTP faults were applied to the request already.
    const peeked = this.faults.take(type, true);
    const fault = peeked?.type === 'error_byte' ? this.faults.take(type) : undefined;
    if (fault?.type === 'error_byte' || (s.errorCode !== 0 && FN_TASKS.has(type))) {
      const code = fault?.code ?? s.errorCode;
      return { status: 'error', errorCode: code, errorDescription: `error ${code}`, result: {} };
    }
    const nowS = Math.floor(this.now() / 1000);
    const devNow = nowS + s.clockOffsetSeconds;
    const expired = shiftExpired(s, devNow);
    const shift = !s.shiftOpen ? 'closed' : expired ? 'expired' : 'opened';
    const ok = (result: Record<string, unknown>) => ({
      status: 'ready',
      errorCode: 0,
      errorDescription: '',
      result,
    });
    switch (type) {
      case 'getDeviceInfo':
        return ok({
          deviceInfo: {
            modelName: s.model,
            serial: s.serial,
            firmwareVersion: `${s.firmwareVersion}.${s.firmwareBuild}`,
            ffdVersion: '1.2',
          },
        });
      case 'getDeviceStatus':
        return ok({
          deviceStatus: {
            currentDateTime: this.iso(devNow),
            shift,
            blocked: false,
            coverOpened: s.coverOpen,
            paperPresent: s.paperPresent,
            fiscal: true,
            fnFiscal: true,
            fnPresent: true,
            cashDrawerOpened: s.drawerOpen,
          },
        });
      case 'getShiftStatus':
        return ok({
          shiftStatus: {
            state: shift,
            number: s.shiftNumber,
            ...(s.shiftOpen &&
              s.shiftOpenedAt !== null && { expiredTime: this.iso(s.shiftOpenedAt + 24 * 3600) }),
          },
        });
      case 'getFnInfo':
        return ok({
          fnInfo: {
            serial: s.fnSerial,
            validityDate: this.iso(s.fnExpiry),
            livePhase: 'fiscalMode',
            numberOfRegistrations: 1,
            registrationsRemaining: 29,
            warnings: {
              memoryOverflow: s.fnWarnings.memory_full,
              needReplacement: s.fnWarnings.replace_urgent,
              ofdTimeout: s.fnWarnings.ofd_timeout,
              resourceExhausted: s.fnWarnings.resource_low,
              criticalError: s.fnWarnings.critical,
            },
          },
        });
      case 'getFnFreeMemory':
        // Which task reports the FN's free resource is unconfirmed (docs/protocols/atol.md, "getFnFreeMemory").
        return ok({ fnFreeMemory: { documentsCount: s.documentsRemaining, availableMemory: 1024 } });
      case 'ofdExchangeStatus':
        return ok({
          status: {
            notSentCount: s.ofdQueue,
            notSentFirstDocNumber: s.ofdQueue > 0 ? 1001 - s.ofdQueue : 0,
            ...(s.ofdQueue > 0 &&
              s.ofdOldestUnsentAt !== null && { notSentFirstDocDateTime: this.iso(s.ofdOldestUnsentAt) }),
            lastSuccessKeysUpdate: this.iso(nowS - 86400),
          },
          errors: {
            network: { code: s.ofdConnected ? 0 : 2, description: s.ofdConnected ? '' : 'no connection' },
            ofd: { code: 0, description: '' },
            fn: { code: 0, description: '' },
            lastSuccessConnectionDateTime: this.iso(nowS - 60),
          },
        });
      default:
        return { status: 'error', errorCode: 1, errorDescription: `unknown task type ${type}`, result: {} };
    }
  }
}

/** "flat" shape: the task's documented object without its key (ofdExchangeStatus keeps `errors`). */
function flatten(result: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(result);
  if (keys.length === 1 && keys[0]) return result[keys[0]] as Record<string, unknown>;
  if ('status' in result) return { ...(result.status as object), errors: result.errors };
  return result;
}
