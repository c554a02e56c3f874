// One poll of a Shtrih-M registrar: connect, run the status commands, disconnect.
// The link is opened per poll and closed after it, so a registrar that accepts one client at a
// time (or a serial port shared with the POS program) is held for as short a time as possible.
import { toDriverError } from '../errors.js';
import type { FiscalDriver, FiscalPoll, FiscalSnapshot } from '../fiscal.js';
import {
  CMD,
  buildRequest,
  parseDeviceType,
  parseFnResource,
  parseFnStatus,
  parseFnValidity,
  parseFullStatus,
  parseOfdStatus,
  parseShortStatus,
  splitReply,
  type CommandCode,
} from './commands.js';
import { openSerial, openTcp, type ByteLink } from './link.js';
import { ShtrihSession } from './session.js';

export type ShtrihAddress =
  { transport: 'tcp'; host: string; port: number } | { transport: 'serial'; path: string; baudRate: number };

export interface ShtrihOptions {
  address: ShtrihAddress;
  /** Operator password for 0x10/0x11 (default 30, the system administrator, who may also run them). */
  password: number;
  /** System administrator password for the FF (FN) commands. */
  adminPassword: number;
  byteTimeoutMs: number;
  replyTimeoutMs: number;
  connectTimeoutMs: number;
  retries: number;
  /** Zone of the registrar's clock, minutes east of UTC; undefined = the host's zone. */
  utcOffsetMinutes?: number;
  /** Flag bits of 0x10/0x11 (they vary by model; docs/protocols/shtrih-m.md, "Flag bits"). */
  paperFlagBit: number;
  coverFlagBit: number;
  drawerFlagBit: number;
  /** FF39 status bit meaning "transport connection to the OFD is up" (unconfirmed: bit 0). */
  ofdConnectedBit: number;
  /** FF01 warning bit meaning a critical FN error (unconfirmed: bit 7). */
  criticalWarningBit: number;
  /** First wait after a busy serial port; doubles up to busyBackoffMaxMs. */
  busyBackoffMs: number;
  busyBackoffMaxMs: number;
}

const LINK_FAILURES = new Set(['timeout', 'nak', 'lrc', 'framing', 'connection', 'busy']);

export class ShtrihDriver implements FiscalDriver {
  private busyUntil = 0;
  private busyDelay = 0;

  constructor(private readonly opts: ShtrihOptions) {}

  private open(signal: AbortSignal): Promise<ByteLink> {
    const a = this.opts.address;
    if (a.transport === 'tcp') return openTcp(a.host, a.port, this.opts.connectTimeoutMs, signal);
    return openSerial(a.path, a.baudRate);
  }

  async poll(signal: AbortSignal, now: () => number): Promise<FiscalPoll> {
    const result: FiscalPoll = { up: false, snapshot: {}, errors: [], lastErrorCode: 0 };
    if (this.opts.address.transport === 'serial' && now() < this.busyUntil) {
      // Still backing off from a busy port: do not touch it (the POS program holds it). The error
      // counter counts attempts, so nothing is counted until the next real attempt.
      return result;
    }
    let link: ByteLink;
    try {
      link = await this.open(signal);
    } catch (err) {
      const e = toDriverError(err);
      if (e.reason === 'busy') {
        this.busyDelay = Math.min(
          this.busyDelay ? this.busyDelay * 2 : this.opts.busyBackoffMs,
          this.opts.busyBackoffMaxMs,
        );
        this.busyUntil = now() + this.busyDelay;
      }
      result.errors.push(e);
      return result;
    }
    this.busyDelay = 0;
    this.busyUntil = 0;
    try {
      await this.run(new ShtrihSession(link, { ...this.opts, signal }), result, now);
    } finally {
      await link.close().catch(() => undefined);
    }
    return result;
  }

  private async run(session: ShtrihSession, result: FiscalPoll, now: () => number): Promise<void> {
    const s: FiscalSnapshot = result.snapshot;
    const o = this.opts;
    const tz = o.utcOffsetMinutes;
    let answered = false;
    // Runs one command; a device error or an unparsable reply loses that command's fields only,
    // a link failure ends the poll with the device down.
    const step = async (cmd: CommandCode, password: number | undefined, use: (data: Buffer) => void) => {
      try {
        const reply = await session.exchange(buildRequest(cmd, password));
        answered = true;
        use(splitReply(cmd, reply));
        return true;
      } catch (err) {
        const e = toDriverError(err, 'parse');
        result.errors.push(e);
        if (e.reason === 'device_error') {
          answered = true;
          result.lastErrorCode = e.code ?? 0;
          return true;
        }
        if (e.reason === 'parse') return true;
        return !LINK_FAILURES.has(e.reason);
      }
    };

    const steps: Array<[CommandCode, number | undefined, (d: Buffer) => void]> = [
      [CMD.deviceType, undefined, (d) => (s.model = parseDeviceType(d).name || 'unknown')],
      [
        CMD.fullStatus,
        o.password,
        (d) => {
          const st = parseFullStatus(d, tz);
          const at = now() / 1000;
          s.serial = st.serial;
          s.firmware = `${st.firmwareVersion}.${st.firmwareBuild}`;
          s.clockOffsetSeconds = st.deviceTime - at;
        },
      ],
      [
        CMD.shortStatus,
        o.password,
        (d) => {
          const st = parseShortStatus(d);
          const bit = (n: number): boolean => ((st.flags >> n) & 1) === 1;
          // Submode 1/2 = passive/active paper-out even when the sensor bit is unsupported.
          s.paperPresent = bit(o.paperFlagBit) && st.submode !== 1 && st.submode !== 2;
          s.coverOpen = bit(o.coverFlagBit);
          s.drawerOpen = bit(o.drawerFlagBit);
          const mode = st.mode & 0x0f;
          s.shiftOpen = mode === 2 || mode === 3 || mode === 8;
          s.shiftExpired = mode === 3;
        },
      ],
      [
        CMD.fnStatus,
        o.adminPassword,
        (d) => {
          const st = parseFnStatus(d, tz);
          s.fnSerial = st.fnSerial;
          // The FN's own flag is authoritative for "open"; "expired" only the mode tells.
          s.shiftOpen = st.shiftOpen;
          if (!st.shiftOpen) s.shiftExpired = false;
          const w = (n: number): boolean => ((st.warnings >> n) & 1) === 1;
          s.fnWarnings = {
            replace_urgent: w(0),
            resource_low: w(1),
            memory_full: w(2),
            ofd_timeout: w(3),
            critical: w(o.criticalWarningBit),
          };
        },
      ],
      [CMD.fnValidity, o.adminPassword, (d) => (s.fnExpiry = parseFnValidity(d, tz).expiry)],
      [
        CMD.ofdStatus,
        o.adminPassword,
        (d) => {
          const st = parseOfdStatus(d, tz);
          s.ofdConnected = ((st.statusBits >> o.ofdConnectedBit) & 1) === 1;
          s.ofdUnsent = st.queueLength;
          if (st.firstUnsentTime !== undefined) s.ofdOldestUnsent = st.firstUnsentTime;
        },
      ],
      [
        CMD.fnResource,
        o.adminPassword,
        (d) => (s.documentsRemaining = parseFnResource(d).documentsRemaining),
      ],
    ];
    for (const [cmd, pw, use] of steps) {
      if (!(await step(cmd, pw, use))) {
        result.up = false;
        return;
      }
    }
    result.up = answered;
  }

  async close(): Promise<void> {
    // Links live for one poll only; nothing to release between polls.
  }
}
