// Fiscal registrars (Shtrih-M binary protocol over TCP or serial; ATOL through its web server).
// Metrics: docs/metrics.md, "Fiscal registrars". Options: exporter/docs/fiscal.md.
import { setMaxListeners } from 'node:events';
import { z } from 'zod';
import { posix, resolve, win32 } from 'node:path';
import {
  registerCollector,
  type Collector,
  type CollectorEnv,
  type CollectResult,
  type DeviceRef,
} from '../collector.js';
import { AtolDriver } from '../drivers/atol/client.js';
import { FAILURE_REASONS, toDriverError, type FailureReason } from '../drivers/errors.js';
import { FamilySet } from '../drivers/families.js';
import { FN_WARNINGS, type FiscalDriver, type FiscalPoll } from '../drivers/fiscal.js';
import { ShtrihDriver, type ShtrihAddress } from '../drivers/shtrih/driver.js';
import {
  FileShiftRecordStore,
  MemoryShiftRecordStore,
  type ShiftRecordStore,
} from '../drivers/shtrih/shift-record.js';
import { positiveDurationMs } from '@tillwatch/config';

/** A duration option; the default is in milliseconds. */
const ms = (defaultMs: number) => positiveDurationMs.default(defaultMs);

const deviceSchema = z
  .strictObject({
    device: z
      .string()
      .min(1)
      .regex(/^[^\s"\\{}]+$/, { error: 'must not contain spaces, quotes or braces' })
      .default('fiscal'),
    driver: z.enum(['shtrih', 'atol'], { error: 'expected "shtrih" or "atol"' }),
    address: z.string().min(1),
    /** Shtrih: operator password (number). ATOL: Basic auth password of the web server (string). */
    password: z.union([z.number().int().min(0).max(0xffffffff), z.string()]).optional(),
    admin_password: z.number().int().min(0).max(0xffffffff).default(30),
    username: z.string().optional(),
    byte_timeout: ms(500),
    reply_timeout: ms(5000),
    connect_timeout: ms(3000),
    retries: z.number().int().min(0).max(10).default(2),
    utc_offset_minutes: z.number().int().min(-720).max(840).optional(),
    paper_flag_bit: z.number().int().min(0).max(15).default(7),
    cover_flag_bit: z.number().int().min(0).max(15).default(10),
    drawer_flag_bit: z.number().int().min(0).max(15).default(11),
    ofd_connected_bit: z.number().int().min(0).max(7).default(0),
    critical_warning_bit: z.number().int().min(0).max(7).default(7),
    busy_backoff: ms(30_000),
    busy_backoff_max: ms(600_000),
    atol_batch: z.boolean().default(true),
    atol_result_poll: ms(200),
    /**
     * Shtrih: file keeping the open shift's opening time across restarts (relative to the config file);
     * "" keeps it in memory only. Default: one file per device in the platform's state directory.
     */
    shift_state_file: z.string().optional(),
    /** Shtrih: how many documents FF0A reads back looking for the shift's opening report. */
    shift_search_depth: z.number().int().min(0).max(64).default(8),
    /** ATOL: the JSON task reporting the FN's free resource (unconfirmed name); "" to not ask. */
    atol_fn_resource_task: z
      .string()
      .regex(/^[A-Za-z]*$/, { error: 'expected a task name such as getFnFreeMemory, or ""' })
      .default('getFnFreeMemory'),
  })
  .superRefine((d, ctx) => {
    if (d.driver === 'atol' && typeof d.password === 'number') {
      ctx.addIssue({
        code: 'custom',
        path: ['password'],
        message: 'the ATOL web server password is a string (Basic auth), quote it',
      });
    }
    if (d.driver === 'shtrih' && typeof d.password === 'string') {
      ctx.addIssue({
        code: 'custom',
        path: ['password'],
        message: 'the Shtrih operator password is a number (default 30)',
      });
    }
    try {
      parseAddress(d.driver, d.address);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['address'], message: (err as Error).message });
    }
  });

export const fiscalSchema = z
  .array(deviceSchema)
  .default([])
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((d, i) => {
      if (seen.has(d.device))
        ctx.addIssue({ code: 'custom', path: [i, 'device'], message: `duplicate device name "${d.device}"` });
      seen.add(d.device);
    });
  });

export type FiscalConfig = z.infer<typeof fiscalSchema>;
type DeviceConfig = z.infer<typeof deviceSchema>;

/** tcp://host:port or serial:///dev/ttyS0?baud=115200 (serial://COM3 on Windows) for shtrih; http(s):// for atol. */
export function parseAddress(
  driver: 'shtrih' | 'atol',
  address: string,
): ShtrihAddress | { transport: 'http'; url: string } {
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw new Error(`"${address}" is not a URL (e.g. tcp://127.0.0.1:7778)`);
  }
  if (driver === 'atol') {
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new Error('the atol driver needs an http:// address of the web server');
    return { transport: 'http', url: address };
  }
  if (u.protocol === 'tcp:') {
    return { transport: 'tcp', host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : 7778 };
  }
  if (u.protocol === 'serial:') {
    const path = decodeURIComponent(u.host ? `${u.host}${u.pathname === '/' ? '' : u.pathname}` : u.pathname);
    if (!path) throw new Error('serial address without a port path (e.g. serial:///dev/ttyS0)');
    const baud = Number(u.searchParams.get('baud') ?? 115200);
    if (![2400, 4800, 9600, 19200, 38400, 57600, 115200].includes(baud))
      throw new Error(`unsupported baud rate ${baud}`);
    return { transport: 'serial', path, baudRate: baud };
  }
  throw new Error(`the shtrih driver needs tcp:// or serial://, got ${u.protocol}//`);
}

/** Where a device's shift record lives by default: the exporter's state directory on each platform. */
export function defaultShiftStateFile(device: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32'
    ? win32.join(process.env.ProgramData ?? 'C:\\ProgramData', 'TillWatch', `shift-${device}.json`)
    : posix.join('/var/lib/tillwatch-exporter', `shift-${device}.json`);
}

function shiftRecords(d: DeviceConfig, env?: CollectorEnv): ShiftRecordStore {
  // The platform's state directory only for the exporter itself (env given); a driver made on its own
  // (the simulator, tests) keeps the record in memory unless it is told a file.
  const file = d.shift_state_file ?? (env ? defaultShiftStateFile(d.device, env.platform) : '');
  if (file === '') return new MemoryShiftRecordStore();
  const log = env?.logger;
  return new FileShiftRecordStore(resolve(env?.configDir ?? '.', file), (err, what) =>
    log?.warn({ device: d.device, err: err.message }, `cannot ${what} the shift record`),
  );
}

export function createDriver(d: DeviceConfig, env?: CollectorEnv): FiscalDriver {
  const addr = parseAddress(d.driver, d.address);
  if (addr.transport === 'http') {
    return new AtolDriver({
      url: addr.url,
      username: d.username,
      password: typeof d.password === 'string' ? d.password : undefined,
      requestTimeoutMs: d.reply_timeout,
      resultPollMs: d.atol_result_poll,
      batch: d.atol_batch,
      utcOffsetMinutes: d.utc_offset_minutes,
      fnResourceTask: d.atol_fn_resource_task,
    });
  }
  return new ShtrihDriver({
    address: addr,
    password: typeof d.password === 'number' ? d.password : 30,
    adminPassword: d.admin_password,
    byteTimeoutMs: d.byte_timeout,
    replyTimeoutMs: d.reply_timeout,
    connectTimeoutMs: d.connect_timeout,
    retries: d.retries,
    utcOffsetMinutes: d.utc_offset_minutes,
    paperFlagBit: d.paper_flag_bit,
    coverFlagBit: d.cover_flag_bit,
    drawerFlagBit: d.drawer_flag_bit,
    ofdConnectedBit: d.ofd_connected_bit,
    criticalWarningBit: d.critical_warning_bit,
    busyBackoffMs: d.busy_backoff,
    busyBackoffMaxMs: d.busy_backoff_max,
    shiftRecords: shiftRecords(d, env),
    shiftSearchDepth: d.shift_search_depth,
  });
}

const H = {
  info: 'Fiscal registrar identity; constant 1.',
  paper: '1 = receipt paper present.',
  cover: '1 = cover open.',
  drawer: '1 = cash drawer open.',
  shiftOpen: '1 = a fiscal shift is open.',
  shiftExpired: '1 = the open shift is older than 24 h; the registrar refuses sales.',
  shiftOpened: 'When the open shift was opened, Unix seconds.',
  fnExpiry: 'FN validity end, Unix seconds.',
  fnWarning: '1 per raised FN warning.',
  docs: 'Documents the FN can still create.',
  ofdConnected: '1 = the link to the OFD is up.',
  ofdUnsent: 'Documents without an OFD receipt.',
  ofdOldest: 'Time of the oldest document not yet sent to the OFD, Unix seconds.',
  clock: 'Registrar clock minus host clock, seconds.',
  lastError: 'Error code of the last failed command in the last poll (0 = none).',
  errors: 'Failed exchanges with the registrar by reason.',
};

export class FiscalCollector implements Collector {
  readonly devices: DeviceRef[];
  private readonly drivers: Array<{ cfg: DeviceConfig; driver: FiscalDriver }>;
  private readonly errorCounts = new Map<string, Map<FailureReason, number>>();

  constructor(config: FiscalConfig, makeDriver: (d: DeviceConfig) => FiscalDriver = createDriver) {
    this.drivers = config.map((cfg) => ({ cfg, driver: makeDriver(cfg) }));
    this.devices = config.map((d) => ({ device: d.device, kind: 'fiscal' }));
    for (const d of config) this.errorCounts.set(d.device, new Map(FAILURE_REASONS.map((r) => [r, 0])));
  }

  async collect(ctx: Parameters<Collector['collect']>[0]): Promise<CollectResult> {
    // Every device's pending read listens on the one run signal; many registrars (the fleet
    // simulator) would otherwise trip Node's listener-leak warning.
    setMaxListeners(Math.max(10, this.drivers.length * 4), ctx.signal);
    const polls = await Promise.all(
      this.drivers.map(async ({ driver }): Promise<FiscalPoll> => {
        try {
          return await driver.poll(ctx.signal, ctx.now);
        } catch (err) {
          // Drivers return failures as data; anything thrown is unexpected and still only downs the device.
          return { up: false, snapshot: {}, errors: [toDriverError(err, 'parse')], lastErrorCode: 0 };
        }
      }),
    );
    const fs = new FamilySet();
    const devices: CollectResult['devices'] = [];
    polls.forEach((p, i) => {
      const cfg = this.drivers[i]?.cfg;
      if (!cfg) return;
      const device = cfg.device;
      const counts = this.errorCounts.get(device) as Map<FailureReason, number>;
      for (const e of p.errors) {
        counts.set(e.reason, (counts.get(e.reason) ?? 0) + 1);
        ctx.logger.warn({ device, reason: e.reason, err: e.message }, 'fiscal registrar exchange failed');
      }
      devices.push({ device, kind: 'fiscal', up: p.up });
      for (const [reason, n] of counts)
        fs.add('till_fiscal_errors_total', H.errors, { device, reason }, n, 'counter');
      fs.add('till_fiscal_last_error_code', H.lastError, { device }, p.lastErrorCode);
      // A device that is down reports nothing else: no stale values survive.
      if (!p.up) return;
      const s = p.snapshot;
      const l = { device };
      fs.add(
        'till_fiscal_info',
        H.info,
        {
          device,
          driver: cfg.driver,
          model: s.model || 'unknown',
          serial: s.serial || 'unknown',
          fn_serial: s.fnSerial || 'unknown',
          firmware: s.firmware || 'unknown',
        },
        1,
      );
      fs.add('till_fiscal_paper_present', H.paper, l, s.paperPresent);
      fs.add('till_fiscal_cover_open', H.cover, l, s.coverOpen);
      fs.add('till_fiscal_drawer_open', H.drawer, l, s.drawerOpen);
      fs.add('till_fiscal_shift_open', H.shiftOpen, l, s.shiftOpen);
      fs.add('till_fiscal_shift_expired', H.shiftExpired, l, s.shiftExpired);
      fs.add('till_fiscal_shift_opened_timestamp_seconds', H.shiftOpened, l, s.shiftOpenedAt);
      fs.add('till_fiscal_fn_expiry_timestamp_seconds', H.fnExpiry, l, s.fnExpiry);
      if (s.fnWarnings) {
        for (const w of FN_WARNINGS)
          fs.add('till_fiscal_fn_warning', H.fnWarning, { device, warning: w }, s.fnWarnings[w]);
      }
      fs.add('till_fiscal_fn_documents_remaining', H.docs, l, s.documentsRemaining);
      fs.add('till_fiscal_ofd_connected', H.ofdConnected, l, s.ofdConnected);
      fs.add('till_fiscal_ofd_unsent_documents', H.ofdUnsent, l, s.ofdUnsent);
      fs.add('till_fiscal_ofd_oldest_unsent_timestamp_seconds', H.ofdOldest, l, s.ofdOldestUnsent);
      fs.add('till_fiscal_clock_offset_seconds', H.clock, l, s.clockOffsetSeconds);
    });
    return { families: fs.families(), devices };
  }

  async close(): Promise<void> {
    await Promise.all(this.drivers.map(({ driver }) => driver.close()));
  }
}

registerCollector({
  name: 'fiscal',
  configKey: 'fiscal',
  schema: fiscalSchema,
  defaultEnabled: (config: FiscalConfig) => config.length > 0,
  defaultIntervalSeconds: 30,
  defaultTimeoutSeconds: 25,
  create: (config: FiscalConfig, env) => new FiscalCollector(config, (d) => createDriver(d, env)),
});
