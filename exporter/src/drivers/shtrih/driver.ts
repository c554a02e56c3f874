// One poll of a Shtrih-M registrar: connect, run the status commands, disconnect.
// The link is opened per poll and closed after it, so a registrar that accepts one client at a
// time (or a serial port shared with the POS program) is held for as short a time as possible.
import { toDriverError } from '../errors.js';
import type { FiscalDriver, FiscalPoll, FiscalSnapshot } from '../fiscal.js';
import {
  CMD,
  DOCUMENT_TYPE,
  buildRequest,
  documentNumberArg,
  parseDeviceType,
  parseFiscalDocument,
  parseShiftParams,
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
import { MemoryShiftRecordStore, type ShiftRecordStore } from './shift-record.js';

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
  /** Where the open shift's opening time is kept across restarts (default: memory only). */
  shiftRecords?: ShiftRecordStore;
  /** How many documents FF0A may read back from the expected opening report (default 8). */
  shiftSearchDepth?: number;
}

const LINK_FAILURES = new Set(['timeout', 'nak', 'lrc', 'framing', 'connection', 'busy']);

export class ShtrihDriver implements FiscalDriver {
  private busyUntil = 0;
  private busyDelay = 0;
  private readonly shiftRecords: ShiftRecordStore;
  /** The last poll that saw the shift closed (or the FN changed): a shift seen open after it opened since. */
  private lastClosed: { fnSerial: string; shiftNumber: number; at: number } | undefined;
  /** The shift whose opening report the archive did not give: not searched again every poll. */
  private searched: string | undefined;

  constructor(private readonly opts: ShtrihOptions) {
    this.shiftRecords = opts.shiftRecords ?? new MemoryShiftRecordStore();
  }

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
    let lastDocument: number | undefined;
    // Runs one command; a device error or an unparsable reply loses that command's fields only,
    // a link failure ends the poll with the device down.
    const step = async (
      cmd: CommandCode,
      password: number | undefined,
      use: (data: Buffer) => void,
      args?: Buffer,
      optional = false,
    ) => {
      try {
        const reply = await session.exchange(buildRequest(cmd, password, args));
        answered = true;
        use(splitReply(cmd, reply));
        return true;
      } catch (err) {
        const e = toDriverError(err, 'parse');
        // The shift-age commands are optional: a firmware without FF40, or a document FF0A cannot find
        // (0x08 no data), is an answer that tells nothing, not a fault of the registrar.
        if (optional && e.reason === 'device_error') return true;
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
          lastDocument = st.lastDocumentNumber;
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
    if (!answered || lastDocument === undefined || !s.fnSerial) return;
    if (!(await this.shiftAge(step, s, s.fnSerial, lastDocument, now))) result.up = false;
  }

  /**
   * Fills shiftOpenedAt from what a Shtrih registrar does report (docs/protocols/shtrih-m.md, "Shift age"):
   * FF40 gives the open shift's number and receipt count; the record kept for that FN and shift number
   * gives its opening time; failing that, FF0A reads the shift's opening report, found just before the
   * shift's receipts; failing that, a closed → open change between two polls bounds it. Returns false on a
   * link failure.
   */
  private async shiftAge(
    step: (
      cmd: CommandCode,
      pw: number | undefined,
      use: (d: Buffer) => void,
      args?: Buffer,
      optional?: boolean,
    ) => Promise<boolean>,
    s: FiscalSnapshot,
    fnSerial: string,
    lastDocument: number,
    now: () => number,
  ): Promise<boolean> {
    let params: ReturnType<typeof parseShiftParams> | undefined;
    const readParams = (d: Buffer) => (params = parseShiftParams(d));
    if (!(await step(CMD.shiftParams, this.opts.adminPassword, readParams, undefined, true))) return false;
    const p = params as ReturnType<typeof parseShiftParams> | undefined;
    if (!p) return true;
    const at = Math.floor(now() / 1000);
    if (!p.shiftOpen) {
      this.lastClosed = { fnSerial, shiftNumber: p.shiftNumber, at };
      return true;
    }
    const known = await this.shiftRecords.load();
    if (known && known.fnSerial === fnSerial && known.shiftNumber === p.shiftNumber) {
      s.shiftOpenedAt = known.openedAt;
      return true;
    }
    // The opening report precedes the shift's receipts; other documents (corrections, OFD reports) may sit
    // between, so read back a few.
    const depth = this.opts.shiftSearchDepth ?? 8;
    const first = lastDocument - p.receiptNumber;
    const shiftKey = `${fnSerial}/${p.shiftNumber}`;
    let openedAt: number | undefined;
    // The registrar is shared with the POS program: a search that failed for this shift is not repeated.
    for (
      let n = first;
      this.searched !== shiftKey && n >= 1 && n > first - depth && openedAt === undefined;
      n--
    ) {
      let doc: ReturnType<typeof parseFiscalDocument> | undefined;
      const tz = this.opts.utcOffsetMinutes;
      const ok = await step(
        CMD.findDocument,
        this.opts.adminPassword,
        (d) => (doc = parseFiscalDocument(d, tz)),
        documentNumberArg(n),
        true,
      );
      if (!ok) return false;
      const found = doc as ReturnType<typeof parseFiscalDocument> | undefined;
      if (!found || found.type === DOCUMENT_TYPE.shiftClose) break; // not in the archive, or past the shift
      if (found.type === DOCUMENT_TYPE.shiftOpen && found.shiftNumber === p.shiftNumber)
        openedAt = found.time;
    }
    if (openedAt === undefined) this.searched = shiftKey;
    if (openedAt !== undefined) {
      s.shiftOpenedAt = openedAt;
      await this.shiftRecords.save({ fnSerial, shiftNumber: p.shiftNumber, openedAt, source: 'document' });
      return true;
    }
    const closed = this.lastClosed;
    if (closed && closed.fnSerial === fnSerial) {
      // Opened after the last poll that saw it closed: that poll's time errs on the early side, so the
      // 22-hour warning comes at worst one poll interval early, never late.
      s.shiftOpenedAt = closed.at;
      await this.shiftRecords.save({
        fnSerial,
        shiftNumber: p.shiftNumber,
        openedAt: closed.at,
        source: 'transition',
      });
    }
    return true;
  }

  async close(): Promise<void> {
    // Links live for one poll only; nothing to release between polls.
  }
}
