// ATOL registrars through the driver's web server (docs/protocols/atol.md): the web server
// shares the device with the POS program, so monitoring never competes for the port.
//
// The shape of the result wrapper returned by GET /api/v2/requests/{uuid} is unconfirmed, so it is
// parsed tolerantly (exporter/docs/fiscal.md, "ATOL result shapes"):
//   nested: {"results":[{"status":"ready","result":{"deviceStatus":{...}}}]}
//   flat:   {"results":[{"status":"ready","result":{...fields of deviceStatus...}}]}
//   bare:   {"deviceStatus":{...}}  (the task output itself, no wrapper)
import { DriverError, toDriverError } from '../errors.js';
import type { FiscalDriver, FiscalPoll, FiscalSnapshot } from '../fiscal.js';
import { basicAuth, httpJson, isObject, parseDateTime } from '../http.js';
import { crypto } from '../../lazy-builtins.js';

export interface AtolOptions {
  url: string;
  username?: string;
  password?: string;
  requestTimeoutMs: number;
  /** Wait between GETs while a task is still queued. */
  resultPollMs: number;
  /** Send all tasks in one request (true) or one request per task (false; unconfirmed which the server prefers). */
  batch: boolean;
  /** Zone for date-times without one, minutes east of UTC; undefined = the host's zone. */
  utcOffsetMinutes?: number;
  /**
   * The task that reports the FN's free resource (documents it can still create); which task does is
   * unconfirmed (docs/protocols/atol.md, "getFnFreeMemory"). Empty: not asked.
   */
  fnResourceTask?: string;
}

export const ATOL_TASKS = [
  'getDeviceInfo',
  'getDeviceStatus',
  'getShiftStatus',
  'getFnInfo',
  'ofdExchangeStatus',
] as const;
/** The default name of the FN free-resource task (unconfirmed; the `atol_fn_resource_task` option). */
export const ATOL_FN_RESOURCE_TASK = 'getFnFreeMemory';
type Task = (typeof ATOL_TASKS)[number] | 'fnResource';

interface TaskResult {
  status: string;
  errorCode: number;
  errorDescription: string;
  result: Record<string, unknown>;
}

/** After the web server refuses the resource task, ask again only this much later (the name may just be wrong). */
const RESOURCE_RETRY_MS = 3600_000;

const PENDING = new Set(['wait', 'inprogress', 'in_progress', 'pending']);

/** Normalises any of the three result shapes to one entry per task. Exported for tests. */
export function parseResults(body: unknown, count: number): TaskResult[] {
  if (!isObject(body)) throw new DriverError('parse', 'ATOL answer is not a JSON object');
  const entries = Array.isArray(body.results) ? body.results : null;
  if (!entries) {
    // Bare: the task output itself; it answers every task of the request.
    return Array.from({ length: count }, () => ({
      status: 'ready',
      errorCode: 0,
      errorDescription: '',
      result: body,
    }));
  }
  return Array.from({ length: count }, (_, i) => {
    const e: unknown = entries[i];
    if (!isObject(e))
      return { status: 'missing', errorCode: 0, errorDescription: 'no result entry', result: {} };
    const err = isObject(e.error) ? e.error : {};
    const errorCode = Number(e.errorCode ?? err.code ?? 0) || 0;
    const status = typeof e.status === 'string' ? e.status : errorCode ? 'error' : 'ready';
    return {
      status,
      errorCode,
      errorDescription: String(e.errorDescription ?? err.description ?? ''),
      result: isObject(e.result) ? e.result : {},
    };
  });
}

/** The task's documented object (`deviceStatus`, ...) whether nested under its key or given flat. */
function pick(result: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = result[key];
  return isObject(v) ? v : result;
}

function bool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

export class AtolDriver implements FiscalDriver {
  private readonly resourceTask: string;
  /** Until when the resource task is not asked again after the web server refused it. */
  private resourceRetryAt = 0;

  constructor(private readonly opts: AtolOptions) {
    this.resourceTask = opts.fnResourceTask ?? ATOL_FN_RESOURCE_TASK;
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json' };
    if (this.opts.username !== undefined)
      h.authorization = basicAuth(this.opts.username, this.opts.password ?? '');
    return h;
  }

  /** Runs tasks through POST + GET polling; resolves with one result per task. */
  private async run(tasks: readonly string[], signal: AbortSignal): Promise<TaskResult[]> {
    const base = this.opts.url.replace(/\/+$/, '');
    const uuid = crypto().randomUUID();
    const req = { timeoutMs: this.opts.requestTimeoutMs, signal, headers: this.headers() };
    await httpJson(`${base}/api/v2/requests`, {
      ...req,
      method: 'POST',
      body: JSON.stringify({ uuid, request: tasks.map((type) => ({ type })) }),
    }).catch((err: unknown) => {
      // The POST answer carries nothing we need; an empty or non-JSON 2xx body is fine.
      if (err instanceof DriverError && err.reason === 'parse') return;
      throw err;
    });
    for (;;) {
      const results = parseResults(await httpJson(`${base}/api/v2/requests/${uuid}`, req), tasks.length);
      if (!results.some((r) => PENDING.has(r.status.toLowerCase()))) return results;
      if (signal.aborted) throw new DriverError('timeout', 'ATOL tasks still queued at the poll deadline');
      await new Promise((r) => setTimeout(r, this.opts.resultPollMs));
    }
  }

  async poll(signal: AbortSignal, now: () => number): Promise<FiscalPoll> {
    const result: FiscalPoll = { up: false, snapshot: {}, errors: [], lastErrorCode: 0 };
    let results: TaskResult[];
    try {
      if (this.opts.batch) results = await this.run(ATOL_TASKS, signal);
      else {
        results = [];
        for (const t of ATOL_TASKS) results.push(...(await this.run([t], signal)));
      }
    } catch (err) {
      result.errors.push(toDriverError(err));
      return result;
    }
    const at = now() / 1000;
    result.up = true;
    const tasks: Array<{ name: string; task: Task; r: TaskResult | undefined }> = ATOL_TASKS.map((t, i) => ({
      name: t,
      task: t,
      r: results[i],
    }));
    // The resource task goes in a request of its own: its name is unconfirmed, and a web server that
    // refuses a whole batch for one unknown task must not cost the documented five.
    if (this.resourceTask && now() >= this.resourceRetryAt) {
      try {
        const [r] = await this.run([this.resourceTask], signal);
        tasks.push({ name: this.resourceTask, task: 'fnResource', r });
        if (r?.status.toLowerCase() !== 'ready') this.resourceRetryAt = now() + RESOURCE_RETRY_MS;
      } catch (err) {
        this.resourceRetryAt = now() + RESOURCE_RETRY_MS;
        result.errors.push(toDriverError(err));
      }
    }
    tasks.forEach(({ name, task, r }) => {
      if (!r) return;
      if (r.status.toLowerCase() !== 'ready') {
        result.lastErrorCode = r.errorCode;
        result.errors.push(
          new DriverError(
            'device_error',
            `${name}: ${r.status} ${r.errorCode} ${r.errorDescription}`,
            r.errorCode,
          ),
        );
        return;
      }
      try {
        apply(task, r.result, result.snapshot, at, this.opts.utcOffsetMinutes);
      } catch (err) {
        result.errors.push(toDriverError(err, 'parse'));
      }
    });
    return result;
  }

  async close(): Promise<void> {}
}

function apply(
  task: Task,
  r: Record<string, unknown>,
  s: FiscalSnapshot,
  nowSeconds: number,
  tz: number | undefined,
): void {
  const missing = (what: string): never => {
    throw new DriverError('parse', `${task}: ${what} missing or invalid`);
  };
  switch (task) {
    case 'getDeviceInfo': {
      const d = pick(r, 'deviceInfo');
      if (typeof d.modelName === 'string') s.model = d.modelName;
      if (d.serial !== undefined) s.serial = String(d.serial);
      if (d.firmwareVersion !== undefined) s.firmware = String(d.firmwareVersion);
      return;
    }
    case 'getDeviceStatus': {
      const d = pick(r, 'deviceStatus');
      s.coverOpen = bool(d.coverOpened);
      s.paperPresent = bool(d.paperPresent);
      s.drawerOpen = bool(d.cashDrawerOpened);
      if (typeof d.shift === 'string') {
        s.shiftOpen ??= d.shift !== 'closed';
        s.shiftExpired ??= d.shift === 'expired';
      }
      const t = parseDateTime(d.currentDateTime, tz);
      if (t === undefined) missing('currentDateTime');
      else s.clockOffsetSeconds = t - nowSeconds;
      return;
    }
    case 'getShiftStatus': {
      const d = pick(r, 'shiftStatus');
      if (typeof d.state !== 'string') return missing('state');
      s.shiftOpen = d.state !== 'closed';
      s.shiftExpired = d.state === 'expired';
      const expires = parseDateTime(d.expiredTime, tz);
      // The web server tells when the shift expires; a shift lasts 24 h, so that is when it opened.
      if (s.shiftOpen && expires !== undefined) s.shiftOpenedAt = expires - 24 * 3600;
      return;
    }
    case 'getFnInfo': {
      const d = pick(r, 'fnInfo');
      if (d.serial !== undefined) s.fnSerial = String(d.serial);
      const expiry = parseDateTime(d.validityDate, tz);
      if (expiry !== undefined) s.fnExpiry = expiry;
      const w = isObject(d.warnings) ? d.warnings : {};
      s.fnWarnings = {
        replace_urgent: w.needReplacement === true,
        resource_low: w.resourceExhausted === true,
        memory_full: w.memoryOverflow === true,
        ofd_timeout: w.ofdTimeout === true,
        critical: w.criticalError === true,
      };
      if (expiry === undefined) missing('validityDate');
      return;
    }
    case 'fnResource': {
      const d = pick(r, 'fnFreeMemory');
      // libfptr's free-memory query names the figure "documents count"; accept the longer spelling too.
      const n = Number(d.documentsCount ?? d.freeDocumentsCount);
      if (!Number.isFinite(n) || n < 0) return missing('documentsCount');
      s.documentsRemaining = n;
      return;
    }
    case 'ofdExchangeStatus': {
      const st = isObject(r.status) ? r.status : r;
      const errors = isObject(r.errors) ? r.errors : {};
      const code = (k: string): number => {
        const e = errors[k];
        return isObject(e) ? Number(e.code ?? 0) || 0 : 0;
      };
      // Unconfirmed which error blocks count as "not connected": the network and OFD ones.
      s.ofdConnected = code('network') === 0 && code('ofd') === 0;
      const count = Number(st.notSentCount);
      if (!Number.isFinite(count)) return missing('notSentCount');
      s.ofdUnsent = count;
      if (count > 0) {
        const t = parseDateTime(st.notSentFirstDocDateTime, tz);
        if (t !== undefined) s.ofdOldestUnsent = t;
      }
      return;
    }
  }
}
