// A Shtrih-M registrar speaking the binary protocol over TCP (like the device's port 7778) or over any
// byte stream such as one end of a pseudo-terminal pair. Frames, exchange and reply layouts follow
// docs/protocols/shtrih-m.md, including the vendor driver's 48-byte 0x11 reply; the wire format is the
// emulator's own (shtrih-wire.ts), never the exporter's codec.
import { closeServer, listen } from '../serve.js';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { Emulator } from './emulator.js';
import { FAULT_TYPES, FaultSet, HTTP_ONLY_FAULTS, prng } from './faults.js';
import {
  ACK,
  ENQ,
  FrameCollector,
  NAK,
  STX,
  cp1251,
  dateBytes,
  frame,
  le,
  timeBytes,
} from './shtrih-wire.js';
import { defaultFiscalState, fiscalStateSchema, shiftExpired, type FiscalState } from './fiscal-state.js';

export interface ShtrihEmulatorOptions {
  id?: string;
  host?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Emulator clock in ms (tests pin it). */
  now?: () => number;
  /** Zone of the device clock, minutes east of UTC; undefined = the host's zone. */
  utcOffsetMinutes?: number;
  /** Operator and administrator passwords the device accepts. */
  password?: number;
  adminPassword?: number;
  state?: Partial<FiscalState>;
  /** Seed of the garbage generator. */
  seed?: number;
}

// Error bytes (docs/protocols/shtrih-m.md, "Error codes").
const ERR_UNKNOWN_COMMAND = 0x37;
const ERR_BAD_PASSWORD = 0x4f;
const ERR_NO_DATA = 0x08;

/** Fiscal document types the emulator keeps (docs/protocols/shtrih-m.md, "FF0A find fiscal document"). */
const DOC_SHIFT_OPEN = 2;
const DOC_RECEIPT = 3;
const DOC_SHIFT_CLOSE = 5;

export class ShtrihEmulator extends Emulator<FiscalState> {
  readonly kind = 'shtrih' as const;
  protected readonly stateSchema = fiscalStateSchema;
  protected readonly faults = new FaultSet(FAULT_TYPES.filter((t) => !HTTP_ONLY_FAULTS.includes(t)));
  private server: net.Server | null = null;
  private readonly streams = new Set<Duplex>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly now: () => number;
  private readonly random: () => number;
  private boundPort = 0;
  /** Commands handled, by code (e.g. "FF01"); lets tests see what the driver asked. */
  readonly commandCounts = new Map<string, number>();

  constructor(private readonly opts: ShtrihEmulatorOptions = {}) {
    const now = opts.now ?? Date.now;
    super(
      opts.id ?? 'shtrih',
      fiscalStateSchema.parse({ ...defaultFiscalState(Math.floor(now() / 1000)), ...opts.state }),
    );
    this.now = now;
    this.random = prng(opts.seed ?? 1);
  }

  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    return `tcp://${this.opts.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((sock) => {
      sock.setNoDelay(true);
      this.attach(sock);
    });
    this.boundPort = await listen(server, this.opts.port ?? 0, this.opts.host ?? '127.0.0.1');
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.streams) s.destroy();
    this.streams.clear();
    const server = this.server;
    this.server = null;
    if (server) await closeServer(server);
  }

  /** Serves the protocol on any byte stream (a TCP socket, a serial port on one end of a pty pair). */
  attach(stream: Duplex): void {
    this.streams.add(stream);
    const collector = new FrameCollector();
    // The last reply and its command, kept until the host confirms it.
    let pending: { reply: Buffer; code: string } | null = null;
    const send = (b: Buffer | number[]): void => {
      if (!stream.destroyed) stream.write(Buffer.from(b));
    };
    const later = (ms: number, fn: () => void): void => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        fn();
      }, ms);
      this.timers.add(t);
    };
    stream.on('error', () => stream.destroy());
    stream.on('close', () => this.streams.delete(stream));
    stream.on('data', (chunk: Buffer) => {
      for (const byte of chunk) {
        if (collector.collecting) {
          const got = collector.add(byte);
          if (!got) continue;
          // A damaged command is NAKed so the host sends it again; a zero LEN is ignored.
          if (!got.ok) {
            if (got.why === 'lrc') send([NAK]);
            continue;
          }
          const reply = this.handle(got.payload, stream, send, later);
          if (reply) pending = reply;
          continue;
        }
        if (byte === ENQ) {
          const f = this.faults.take('ENQ', true);
          if (f && f.command === undefined && f.type === 'no_answer') continue;
          if (f && f.command === undefined && f.type === 'garbage') {
            send(this.garbage());
            continue;
          }
          send([NAK]);
        } else if (byte === STX) {
          collector.begin();
        } else if (byte === ACK) {
          pending = null;
        } else if (byte === NAK && pending) {
          // The host asks for the reply again (bad LRC on its side). A corrupt_lrc fault models line noise:
          // each of its uses damages one transmission, so a limited one lets the resent reply through.
          const f = this.faults.take(pending.code, true);
          if (f?.type === 'corrupt_lrc') this.faults.take(pending.code);
          send(f?.type === 'corrupt_lrc' ? damaged(pending.reply) : pending.reply);
        }
      }
    });
  }

  private garbage(): Buffer {
    const n = 3 + Math.floor(this.random() * 40);
    return Buffer.from(Array.from({ length: n }, () => Math.floor(this.random() * 256)));
  }

  /** Handles one received command frame; returns the reply to resend on NAK, if any. */
  private handle(
    payload: Buffer,
    stream: Duplex,
    send: (b: Buffer | number[]) => void,
    later: (ms: number, fn: () => void) => void,
  ): { reply: Buffer; code: string } | null {
    const cmdLen = payload[0] === 0xff ? 2 : 1;
    const cmd = payload.subarray(0, cmdLen);
    const code = cmd.toString('hex').toUpperCase();
    this.commandCounts.set(code, (this.commandCounts.get(code) ?? 0) + 1);
    const fault = this.faults.take(code);
    switch (fault?.type) {
      case 'no_answer':
        return null;
      case 'nak_storm':
        send([NAK]);
        return null;
      case 'drop':
        stream.destroy();
        return null;
      case 'garbage':
        send([ACK]);
        send(this.garbage());
        return null;
      default:
    }
    send([ACK]);
    const reply =
      fault?.type === 'error_byte'
        ? frame(Buffer.concat([cmd, Buffer.from([fault.code ?? 0x01])]))
        : frame(this.reply(cmd, code, payload.subarray(cmdLen)));
    let out = reply;
    if (fault?.type === 'corrupt_lrc') out = damaged(reply);
    if (fault?.type === 'truncated') out = reply.subarray(0, Math.max(2, reply.length - 3));
    const delay = fault?.type === 'slow' ? (fault.delayMs ?? 10_000) : 0;
    if (delay > 0) later(delay, () => send(out));
    else send(out);
    return fault?.type === 'truncated' ? null : { reply, code };
  }

  /** Reply payload for a command: command bytes, error byte, data (docs/protocols/shtrih-m.md, "Replies"). */
  private reply(cmd: Buffer, code: string, args: Buffer): Buffer {
    const s = this.state;
    const tz = this.opts.utcOffsetMinutes;
    const err = (e: number): Buffer => Buffer.concat([cmd, Buffer.from([e])]);
    const ok = (data: number[] | Buffer): Buffer => Buffer.concat([cmd, Buffer.from([0]), Buffer.from(data)]);
    const pw = args.length >= 4 ? args.readUInt32LE(0) : undefined;
    const nowS = Math.floor(this.now() / 1000);
    const deviceNow = nowS + s.clockOffsetSeconds;
    const operatorPw = this.opts.password ?? 30;
    const adminPw = this.opts.adminPassword ?? 30;
    const expired = shiftExpired(s, deviceNow);
    // Flag bits (shtrih-m.md, "Flag bits"): roll and sensor say paper, bit 9 is the print head lever down.
    const flags =
      (s.paperPresent ? (1 << 1) | (1 << 7) : 0) |
      (1 << 9) |
      (s.coverOpen ? 1 << 10 : 0) |
      (s.drawerOpen ? 1 << 11 : 0);
    const mode = s.shiftOpen ? (expired ? 3 : 2) : 4;
    const submode = s.paperPresent ? 0 : 1;

    if (code === 'FC') {
      // Protocol type, subtype, version, subversion, model number, language, then the name.
      return ok(Buffer.concat([Buffer.from([0, 0, 1, 0, 0, 0]), cp1251(s.model)]));
    }
    if (code === '10' || code === '11') {
      if (pw !== operatorPw && pw !== adminPw) return err(ERR_BAD_PASSWORD);
      if (code === '10') return ok([30, ...le(flags, 2), mode, submode, ...new Array<number>(11).fill(0)]);
      const [v0 = '1', , v2 = '0'] = s.firmwareVersion;
      return ok([
        30, // operator
        v0.charCodeAt(0),
        v2.charCodeAt(0),
        ...le(s.firmwareBuild, 2),
        1,
        1,
        24, // firmware date DD MM YY
        1, // number in the hall
        ...le(100, 2), // document number
        ...le(flags, 2),
        mode,
        submode,
        128, // port: TCP
        0x31,
        0x30, // legacy fiscal memory version, build and date: the vendor driver's layout keeps them
        ...le(1, 2),
        1,
        1,
        24,
        ...dateBytes(deviceNow, 'DMY', tz),
        ...timeBytes(deviceNow, true, tz),
        0, // fiscal memory flags
        ...le(Number(s.serial), 4),
        ...le(s.shiftNumber, 2),
        ...le(2000, 2), // free shift records
        1,
        3, // re-registrations done / left
        0x77,
        0x12,
        0x34,
        0x56,
        0x78,
        0x90, // INN
      ]);
    }
    if (cmd[0] === 0xff) {
      if (pw !== adminPw) return err(ERR_BAD_PASSWORD);
      if (s.errorCode !== 0) return err(s.errorCode);
      switch (code) {
        case 'FF01': {
          const w = s.fnWarnings;
          const warnings =
            (w.replace_urgent ? 1 : 0) |
            (w.resource_low ? 2 : 0) |
            (w.memory_full ? 4 : 0) |
            (w.ofd_timeout ? 8 : 0) |
            (w.critical ? 0x80 : 0);
          return ok([
            3, // life phase: fiscal mode
            0, // no document open
            0,
            s.shiftOpen ? 1 : 0,
            warnings,
            ...dateBytes(deviceNow, 'YMD', tz),
            ...timeBytes(deviceNow, false, tz),
            ...Buffer.from(s.fnSerial.padEnd(16, ' ').slice(0, 16), 'latin1'),
            ...le(s.lastDocumentNumber, 4),
          ]);
        }
        case 'FF03':
          // Validity date, then re-registrations left and done.
          return ok([...dateBytes(s.fnExpiry, 'YMD', tz), 3, 1]);
        case 'FF39': {
          const unsent = s.ofdQueue > 0 && s.ofdOldestUnsentAt !== null ? s.ofdOldestUnsentAt : null;
          return ok([
            (s.ofdConnected ? 1 : 0) | (s.ofdQueue > 0 ? 2 : 0),
            0,
            ...le(s.ofdQueue, 2),
            ...le(s.ofdQueue > 0 ? 1001 - s.ofdQueue : 0, 4),
            ...(unsent === null
              ? [0, 0, 0, 0, 0]
              : [...dateBytes(unsent, 'YMD', tz), ...timeBytes(unsent, false, tz)]),
          ]);
        }
        case 'FF40':
          // Shift state, shift number, receipt number in the shift.
          return ok([s.shiftOpen ? 1 : 0, ...le(s.shiftNumber, 2), ...le(s.receiptsInShift, 2)]);
        case 'FF0A': {
          if (args.length < 8) return err(ERR_NO_DATA);
          const doc = this.document(args.readUInt32LE(4), deviceNow);
          if (!doc) return err(ERR_NO_DATA);
          const head = [doc.type, 1, ...dateBytes(doc.at, 'YMD', tz), ...timeBytes(doc.at, false, tz)];
          const tail =
            doc.type === DOC_RECEIPT
              ? [1, ...le(10_000, 4), 0] // operation: sale; sum 100.00 in kopecks (5 bytes)
              : le(doc.shift, 2);
          return ok([...head, ...le(doc.number, 4), ...le(0x5eed0000 + doc.number, 4), ...tail]);
        }
        case 'FF63':
          return ok([...le(s.documentsRemaining, 4), ...le(1024, 4), 5]);
        default:
          return err(ERR_UNKNOWN_COMMAND);
      }
    }
    return err(ERR_UNKNOWN_COMMAND);
  }

  /**
   * The fiscal document `n` as the FN archive would give it back: the open shift's opening report, the
   * receipts and other documents after it (a minute apart), and before it the previous shift's closing report.
   * Documents older than that are not modelled.
   */
  private document(
    n: number,
    deviceNow: number,
  ): { type: number; at: number; number: number; shift: number } | null {
    const s = this.state;
    if (n < 1 || n > s.lastDocumentNumber) return null;
    const open = s.shiftOpen ? s.shiftOpenDocument : null;
    const openedAt = s.shiftOpenedAt ?? deviceNow;
    if (open !== null && n === open)
      return { type: DOC_SHIFT_OPEN, at: openedAt, number: n, shift: s.shiftNumber };
    if (open !== null && n > open)
      return {
        type: DOC_RECEIPT,
        at: Math.min(deviceNow, openedAt + (n - open) * 60),
        number: n,
        shift: s.shiftNumber,
      };
    const closedShift = s.shiftOpen ? s.shiftNumber - 1 : s.shiftNumber;
    if (n === (open ?? s.lastDocumentNumber + 1) - 1)
      return { type: DOC_SHIFT_CLOSE, at: openedAt - 8 * 3600, number: n, shift: closedShift };
    return null;
  }
}

/** A reply as line noise leaves it: the check byte with bits 1, 3, 4 and 6 flipped. */
function damaged(reply: Buffer): Buffer {
  const out = Buffer.from(reply);
  out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0x5a;
  return out;
}
