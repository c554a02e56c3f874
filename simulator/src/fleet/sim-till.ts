// One simulated till: its device emulators, a real exporter (createExporter) reading them, the
// exporter's web server on the till's inventory address, and the model of the slow processes
// (FN ageing, OFD backlog, clock drift, certificates, disk, paper) the fleet's tick loop advances.
//
// The tills present themselves as Windows tills (till_info os="windows"): the exporter's Windows
// seams for peripherals (Win32_PnPEntity) and processes (Win32_Process) are plain PowerShell-runner
// functions the simulator answers from memory, so a till costs no files and no child processes.
import net from 'node:net';
import type { Logger } from 'pino';
import {
  createExporter,
  parseConfig,
  parseListenAddress,
  startWebServer,
  type Exporter,
  type PowerShellRunner,
  type SystemInfoSource,
  type WebServer,
} from '@tillwatch/exporter';
import { AtolEmulator } from '../emulators/atol-emulator.js';
import { MarkingEmulator } from '../emulators/marking-emulator.js';
import { ShtrihEmulator } from '../emulators/shtrih-emulator.js';
import { UtmEmulator } from '../emulators/utm-emulator.js';
import type { FiscalState } from '../emulators/fiscal-state.js';
import { FAULT_NEEDS, type TillFault } from './faults.js';
import type { Condition } from './scenario.js';

const DAY = 86_400;
/** Zone of the emulated devices' clocks, also given to the exporter so both agree (Moscow). */
const UTC_OFFSET_MINUTES = 180;
const PERIPHERAL_KINDS = new Set(['scanner', 'printer', 'scales', 'pinpad', 'drawer', 'other']);

export interface TillSpec {
  chain: string;
  region: string;
  store: string;
  till: string;
  /** host:port the till's /metrics listens on. */
  address: string;
  fiscalDriver: 'shtrih' | 'atol';
  utm: boolean;
  marking: boolean;
  peripherals: Array<{ device: string; kind: string; vendor: string; product: string }>;
}

export interface SimTillOptions {
  /** Collector interval; timeouts are 80 % of it. */
  intervalMs: number;
  logger: Logger;
  /** Deterministic per-till variation (baselines). */
  random: () => number;
}

interface Model {
  fnExpiry: number;
  fnHealthyDays: number;
  documentsRemaining: number;
  ofdOldestUnsent: number | null;
  ofdQueue: number;
  clockOffset: number;
  clockDriftPerDay: number;
  gostExpiry: number;
  rsaExpiry: number;
  gostHealthyDays: number;
  markingLastSync: number;
  markingStuck: boolean;
  diskSize: number;
  diskFree: number;
  diskHealthyFree: number;
  diskFillPerDay: number;
  paperLeft: number | null;
  receiptCarry: number;
  posPid: number;
  posStart: number;
  nextCrashAt: number;
}

/** Fill rate while disk_filling is on: a runaway log, 1 % of the disk per simulated minute. */
const DISK_FAULT_FILL_PER_DAY = 0.01 * 1440;
/** How often the POS program dies while pos_crashloop is on (real seconds). */
const CRASH_EVERY_S = 20;

export class SimTill {
  readonly fiscal: ShtrihEmulator | AtolEmulator;
  readonly utm: UtmEmulator | null;
  readonly marking: MarkingEmulator | null;
  readonly faults = new Set<TillFault>();
  private exporter: Exporter | null = null;
  private placeholder: net.Server | null = null;
  private web: WebServer | null = null;
  private uplinkDown = false;
  private readonly model: Model;
  private lastFiscal = '';
  private lastUtm = '';
  private lastMarking = '';

  constructor(
    readonly spec: TillSpec,
    private readonly opts: SimTillOptions,
  ) {
    const now = Date.now() / 1000;
    const r = opts.random;
    const fnHealthyDays = 120 + Math.floor(r() * 300);
    const gostHealthyDays = 90 + Math.floor(r() * 270);
    const diskSize = 128 * 1024 ** 3;
    const diskHealthyFree = 0.45 + r() * 0.35;
    this.model = {
      fnExpiry: now + fnHealthyDays * DAY,
      fnHealthyDays,
      documentsRemaining: 150_000 + Math.floor(r() * 90_000),
      ofdOldestUnsent: null,
      ofdQueue: 0,
      clockOffset: 0,
      clockDriftPerDay: 0,
      gostExpiry: now + gostHealthyDays * DAY,
      rsaExpiry: now + (gostHealthyDays + 30) * DAY,
      gostHealthyDays,
      markingLastSync: now - 60,
      markingStuck: false,
      diskSize,
      diskFree: diskSize * diskHealthyFree,
      diskHealthyFree,
      diskFillPerDay: 0,
      paperLeft: null,
      receiptCarry: 0,
      posPid: 4000 + Math.floor(r() * 20_000),
      posStart: Math.floor(now - 3600 - r() * 36_000),
      nextCrashAt: 0,
    };
    const common = { id: spec.till, utcOffsetMinutes: UTC_OFFSET_MINUTES };
    const fiscalState = { serial: String(10_000_000 + Math.floor(r() * 89_999_999)), ...this.fiscalPatch() };
    this.fiscal =
      spec.fiscalDriver === 'shtrih'
        ? new ShtrihEmulator({ ...common, state: fiscalState })
        : new AtolEmulator({ ...common, state: { ...fiscalState, pendingPolls: 0 } });
    this.utm = spec.utm ? new UtmEmulator({ ...common, state: this.utmPatch() }) : null;
    this.marking = spec.marking ? new MarkingEmulator({ ...common, state: this.markingPatch() }) : null;
  }

  get id(): string {
    return this.spec.till;
  }

  get reachable(): boolean {
    return !this.uplinkDown;
  }

  /**
   * Holds the till's address before any emulator starts: emulators bind port 0, and the kernel may
   * hand out a port of a later till when inventory ports lie in the ephemeral range.
   */
  async reserve(): Promise<void> {
    const { host, port } = parseListenAddress(this.spec.address);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(new Error(`till ${this.id}: cannot listen on ${this.spec.address}: ${err.message}`)),
      );
      server.listen(port, host, () => resolve());
    });
    this.placeholder = server;
  }

  /** Starts the emulators, the exporter (first collection done) and the web server. */
  async start(): Promise<void> {
    await Promise.all([this.fiscal.start(), this.utm?.start(), this.marking?.start()]);
    this.exporter = createExporter(this.exporterConfig(), {
      logger: this.opts.logger,
      platform: 'win32',
      powershell: this.powershell,
      serialPorts: async () => [],
      systemInfo: this.systemInfo,
    });
    await this.exporter.start();
    await this.listen();
  }

  async stop(): Promise<void> {
    this.placeholder?.close();
    this.placeholder = null;
    await this.web?.close();
    this.web = null;
    await this.exporter?.stop();
    await Promise.all([this.fiscal.stop(), this.utm?.stop(), this.marking?.stop()]);
  }

  /** Runs every collector now (tests: see a change without waiting for the interval). */
  async collectNow(): Promise<void> {
    await this.exporter?.collectNow();
  }

  async metrics(): Promise<string> {
    return this.exporter ? this.exporter.metrics() : '';
  }

  /** The store's uplink: when down, the till's port refuses connections (scrapes fail). */
  async setUplink(up: boolean): Promise<void> {
    this.uplinkDown = !up;
    if (up && !this.web && this.exporter) await this.listen();
    if (!up && this.web) {
      const web = this.web;
      this.web = null;
      await web.close();
    }
    this.sync();
  }

  /** Whether this till can take a fault (the device it acts on exists); a reason when not. */
  cannotTake(fault: TillFault): string | null {
    const need = FAULT_NEEDS[fault];
    if (need === 'utm' && !this.utm) return `till ${this.id} has no EGAIS UTM`;
    if (need === 'marking' && !this.marking) return `till ${this.id} has no marking module`;
    if (need === 'scanner' && !this.spec.peripherals.some((p) => p.kind === 'scanner'))
      return `till ${this.id} has no scanner`;
    return null;
  }

  addFault(fault: TillFault): void {
    const now = Date.now() / 1000;
    const m = this.model;
    this.faults.add(fault);
    switch (fault) {
      case 'fn_expiring':
        m.fnExpiry = now + 5 * DAY;
        break;
      case 'fn_expired':
        m.fnExpiry = now - DAY;
        break;
      case 'ofd_down':
        if (m.ofdOldestUnsent === null) m.ofdOldestUnsent = now;
        break;
      case 'clock_drift':
        m.clockOffset = 300;
        break;
      case 'utm_cert_expiring':
        m.gostExpiry = now + 10 * DAY;
        break;
      case 'disk_filling':
        m.diskFree = Math.min(m.diskFree, 0.2 * m.diskSize);
        break;
      case 'registrar_down':
        this.fiscal.clearFaults();
        this.fiscal.addFault({ type: 'drop' });
        break;
      case 'utm_hung':
        this.utm?.clearFaults();
        this.utm?.addFault({ type: 'no_answer' });
        break;
      case 'pos_crashloop':
        m.nextCrashAt = now;
        break;
      default:
    }
    this.sync();
  }

  /** Clears a fault and puts the aspect it acts on back to healthy values (idempotent). */
  clearFault(fault: TillFault): void {
    const now = Date.now() / 1000;
    const m = this.model;
    this.faults.delete(fault);
    switch (fault) {
      case 'paper_out':
        m.paperLeft = null; // a new roll
        break;
      case 'fn_expiring':
      case 'fn_expired':
        m.fnExpiry = now + m.fnHealthyDays * DAY; // a new FN
        break;
      case 'ofd_down':
        break;
      case 'clock_drift':
        m.clockOffset = 0;
        m.clockDriftPerDay = 0;
        break;
      case 'utm_cert_expiring':
        m.gostExpiry = now + m.gostHealthyDays * DAY;
        break;
      case 'marking_not_ready':
        m.markingStuck = false;
        m.markingLastSync = now - 60;
        break;
      case 'disk_filling':
        m.diskFree = m.diskSize * m.diskHealthyFree;
        m.diskFillPerDay = 0;
        break;
      case 'registrar_down':
        this.fiscal.clearFaults();
        break;
      case 'utm_hung':
        // What restarting the УТМ service does: it answers again.
        this.utm?.clearFaults();
        break;
      default:
    }
    this.sync();
  }

  /** Applies a scenario's slow-burn starting point. */
  applyCondition(c: Condition): void {
    const now = Date.now() / 1000;
    const m = this.model;
    if (c.fn_expires_in !== undefined) m.fnExpiry = now + c.fn_expires_in;
    if (c.fn_documents_remaining !== undefined) m.documentsRemaining = c.fn_documents_remaining;
    if (c.ofd_down_since !== undefined) {
      this.faults.add('ofd_down');
      m.ofdOldestUnsent = now - c.ofd_down_since;
      m.ofdQueue = Math.max(1, Math.round(c.ofd_down_since / 120));
    }
    if (c.clock_drift_per_day !== undefined) m.clockDriftPerDay = c.clock_drift_per_day;
    if (c.utm_cert_expires_in !== undefined) m.gostExpiry = now + c.utm_cert_expires_in;
    if (c.marking_sync_stuck_since !== undefined) {
      m.markingStuck = true;
      m.markingLastSync = now - c.marking_sync_stuck_since;
    }
    if (c.disk_free_percent !== undefined) m.diskFree = (m.diskSize * c.disk_free_percent) / 100;
    if (c.disk_fill_percent_per_day !== undefined) m.diskFillPerDay = c.disk_fill_percent_per_day / 100;
    if (c.paper_receipts_left !== undefined) m.paperLeft = c.paper_receipts_left;
    this.sync();
  }

  /**
   * Advances the slow processes by `simSeconds` of simulated time during `realSeconds` of wall time.
   * Deadlines (FN, certificates) move closer and past events (oldest unsent document, last sync)
   * move back by the difference, so the metrics stay relative to the real clock Prometheus uses.
   */
  tick(realSeconds: number, simSeconds: number, receiptsPerHour: number): void {
    const now = Date.now() / 1000;
    const m = this.model;
    const extra = Math.max(0, simSeconds - realSeconds);
    m.fnExpiry -= extra;
    m.gostExpiry -= extra;
    m.rsaExpiry -= extra;
    const ofdDown = this.faults.has('ofd_down') || this.uplinkDown;
    m.receiptCarry += (receiptsPerHour * simSeconds) / 3600;
    const receipts = Math.floor(m.receiptCarry);
    m.receiptCarry -= receipts;
    if (receipts > 0) {
      m.documentsRemaining = Math.max(0, m.documentsRemaining - receipts);
      if (m.paperLeft !== null) {
        m.paperLeft = Math.max(0, m.paperLeft - receipts);
        if (m.paperLeft === 0) this.faults.add('paper_out');
      }
      if (ofdDown) m.ofdQueue = Math.min(65_535, m.ofdQueue + receipts);
    }
    if (ofdDown) {
      if (m.ofdOldestUnsent === null) m.ofdOldestUnsent = now;
      else m.ofdOldestUnsent -= extra;
    } else {
      m.ofdOldestUnsent = null;
      m.ofdQueue = 0;
    }
    m.clockOffset += (m.clockDriftPerDay * simSeconds) / DAY;
    if (this.faults.has('marking_not_ready') || m.markingStuck) m.markingLastSync -= extra;
    else if (now - m.markingLastSync > 600) m.markingLastSync = now; // the module syncs every 10 min
    const fill = m.diskFillPerDay + (this.faults.has('disk_filling') ? DISK_FAULT_FILL_PER_DAY : 0);
    m.diskFree = Math.max(0, m.diskFree - (fill * m.diskSize * simSeconds) / DAY);
    if (this.faults.has('pos_crashloop') && now >= m.nextCrashAt) {
      m.posPid += 1 + Math.floor(this.opts.random() * 50);
      m.posStart = Math.floor(now);
      m.nextCrashAt = now + CRASH_EVERY_S;
    }
    this.sync();
  }

  /** Faults shown by the control API (the store's uplink included). */
  activeFaults(): string[] {
    return [...this.faults, ...(this.uplinkDown ? ['uplink_down'] : [])].sort();
  }

  private fiscalPatch(): Partial<FiscalState> {
    const now = Date.now() / 1000;
    const m = this.model;
    const left = m.fnExpiry - now;
    const ofdDown = this.faults.has('ofd_down') || this.uplinkDown;
    return {
      paperPresent: !this.faults.has('paper_out'),
      coverOpen: this.faults.has('cover_open'),
      fnExpiry: Math.max(0, Math.round(m.fnExpiry)),
      // The FN raises these itself: bit 1 at 30 days of validity left, bit 0 ("urgent") at 3 days.
      fnWarnings: {
        replace_urgent: left < 3 * DAY,
        resource_low: left < 30 * DAY,
        memory_full: false,
        ofd_timeout: false,
        critical: false,
      },
      documentsRemaining: m.documentsRemaining,
      ofdConnected: !ofdDown,
      ofdQueue: m.ofdQueue,
      ofdOldestUnsentAt: m.ofdOldestUnsent === null ? null : Math.max(0, Math.round(m.ofdOldestUnsent)),
      clockOffsetSeconds: Math.round(m.clockOffset),
    };
  }

  private utmPatch() {
    return {
      gostExpiry: Math.max(0, Math.round(this.model.gostExpiry)),
      rsaExpiry: Math.max(0, Math.round(this.model.rsaExpiry)),
    };
  }

  private markingPatch() {
    return {
      status: this.faults.has('marking_not_ready') ? 'sync_error' : 'ready',
      lastSync: Math.max(0, Math.round(this.model.markingLastSync)),
    };
  }

  /** Pushes the model into the emulators; patchState validates, so only changed states are sent. */
  private sync(): void {
    const f = this.fiscalPatch();
    const fk = JSON.stringify(f);
    if (fk !== this.lastFiscal) {
      this.fiscal.patchState(f);
      this.lastFiscal = fk;
    }
    if (this.utm) {
      const u = this.utmPatch();
      const uk = JSON.stringify(u);
      if (uk !== this.lastUtm) {
        this.utm.patchState(u);
        this.lastUtm = uk;
      }
    }
    if (this.marking) {
      const p = this.markingPatch();
      const pk = JSON.stringify(p);
      if (pk !== this.lastMarking) {
        this.marking.patchState(p);
        this.lastMarking = pk;
      }
    }
  }

  private async listen(): Promise<void> {
    if (!this.exporter) return;
    const placeholder = this.placeholder;
    this.placeholder = null;
    if (placeholder) await new Promise((resolve) => placeholder.close(resolve));
    try {
      this.web = await startWebServer(this.exporter, this.spec.address);
    } catch (err) {
      throw new Error(`till ${this.id}: cannot listen on ${this.spec.address}: ${(err as Error).message}`);
    }
  }

  private exporterConfig() {
    const s = this.spec;
    // ±10 % per till: tills started together would otherwise poll in lockstep, and hundreds of
    // exchanges landing in the same millisecond stall this one event loop.
    const intervalMs = Math.round(this.opts.intervalMs * (0.9 + 0.2 * this.opts.random()));
    const every = `${intervalMs}ms`;
    const timeout = `${Math.floor(intervalMs * 0.8)}ms`;
    const sw = { interval: every, timeout };
    // Generous device timeouts: a slow answer here is this process's event-loop lag, not a device
    // fault, and must not read as one. Faults that should look like timeouts are injected explicitly.
    const replyTimeout = `${Math.max(200, Math.floor(intervalMs * 0.5))}ms`;
    const byteTimeout = `${Math.max(100, Math.floor(intervalMs * 0.3))}ms`;
    return parseConfig(
      {
        identity: { chain: s.chain, region: s.region, store: s.store, till: s.till },
        collectors: {
          system: sw,
          process: sw,
          peripheral: sw,
          fiscal: sw,
          ...(this.utm && { utm: sw }),
          ...(this.marking && { marking: sw }),
        },
        system: { temperatures: false },
        processes: [{ name: 'pos', executable: 'pos' }],
        peripherals: s.peripherals.map((p) => ({
          device: p.device,
          kind: p.kind,
          usb: { vendor: p.vendor, product: p.product },
        })),
        fiscal: [
          {
            device: 'fiscal',
            driver: s.fiscalDriver,
            address: this.fiscal.address,
            utc_offset_minutes: UTC_OFFSET_MINUTES,
            reply_timeout: replyTimeout,
            connect_timeout: replyTimeout,
            // The fleet's tills share one host: shift records stay in memory, never in the host's state directory.
            ...(s.fiscalDriver === 'shtrih' && {
              retries: 1,
              byte_timeout: byteTimeout,
              shift_state_file: '',
            }),
            ...(s.fiscalDriver === 'atol' && { atol_result_poll: '50ms' }),
          },
        ],
        ...(this.utm && {
          utm: {
            url: this.utm.address,
            utc_offset_minutes: UTC_OFFSET_MINUTES,
            request_timeout: replyTimeout,
          },
        }),
        ...(this.marking && {
          marking: {
            url: this.marking.address,
            username: 'admin',
            password: 'admin',
            request_timeout: replyTimeout,
          },
        }),
      },
      `<fleet till ${s.till}>`,
    );
  }

  /** Answers the exporter's Windows queries (Win32_PnPEntity, Win32_Process) from the model. */
  private readonly powershell: PowerShellRunner = async (script) => {
    if (script.includes('Win32_PnPEntity')) {
      const rows = this.spec.peripherals
        .filter((p) => !(p.kind === 'scanner' && this.faults.has('scanner_missing')))
        .map((p, i) => ({
          Name: p.device,
          PNPDeviceID: `USB\\VID_${p.vendor.toUpperCase()}&PID_${p.product.toUpperCase()}\\${this.id}-${i}`,
          Status: 'OK',
          ConfigManagerErrorCode: 0,
        }));
      return JSON.stringify(rows);
    }
    if (script.includes('Win32_Process')) {
      const m = this.model;
      return JSON.stringify([
        { ProcessId: 4, Name: 'System', CommandLine: null, WorkingSetSize: 0, Created: 0 },
        {
          ProcessId: m.posPid,
          Name: 'pos.exe',
          CommandLine: '"C:\\POS\\pos.exe" --store',
          WorkingSetSize: 350 * 1024 * 1024,
          Created: m.posStart * 1000,
        },
      ]);
    }
    throw new Error('the fleet simulator does not answer this PowerShell query');
  };

  private readonly systemInfo: SystemInfoSource = {
    cpuUsage: async () => 0.05 + this.opts.random() * 0.2,
    memory: async () => ({ total: 4 * 1024 ** 3, available: 1.6 * 1024 ** 3 }),
    filesystems: async () => [
      {
        mountpoint: 'C:',
        size: this.model.diskSize,
        available: Math.round(this.model.diskFree),
        type: 'NTFS',
      },
    ],
    uptime: async () => 8 * 3600,
    temperatures: async () => [],
  };
}

/** Peripheral kinds the exporter's peripheral collector takes. */
export function isPeripheralKind(kind: string): boolean {
  return PERIPHERAL_KINDS.has(kind);
}
