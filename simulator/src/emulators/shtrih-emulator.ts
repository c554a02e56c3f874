// A Shtrih-M registrar speaking the binary protocol over TCP (like the device's port 7778) or over any
// byte stream such as one end of a pseudo-terminal pair. Reply layouts follow domain.md, including
// the vendor driver's 48-byte 0x11 reply.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { ACK, ENQ, FrameParser, NAK, STX, encodeFrame } from '@tillwatch/exporter/drivers/shtrih/codec';
import { encodeCp1251, epochToWallClock } from '@tillwatch/exporter/drivers/shtrih/commands';
import { Emulator } from './emulator.js';
import { FaultSet, prng } from './faults.js';
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

const ERR_UNKNOWN_COMMAND = 0x37;
const ERR_BAD_PASSWORD = 0x4f;

export class ShtrihEmulator extends Emulator<FiscalState> {
  readonly kind = 'shtrih' as const;
  protected readonly stateSchema = fiscalStateSchema;
  protected readonly faults = new FaultSet([
    'no_answer',
    'nak_storm',
    'corrupt_lrc',
    'truncated',
    'error_byte',
    'garbage',
    'slow',
    'drop',
  ]);
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
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.boundPort = (server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.streams) s.destroy();
    this.streams.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Serves the protocol on any byte stream (a TCP socket, a serial port on one end of a pty pair). */
  attach(stream: Duplex): void {
    this.streams.add(stream);
    const parser = new FrameParser();
    let pending: Buffer | null = null;
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
        if (parser.inFrame) {
          const ev = parser.push(byte);
          if (!ev) continue;
          if (ev.kind === 'error') {
            if (ev.reason === 'lrc') send([NAK]);
            continue;
          }
          const reply = this.handle(ev.payload, stream, send, later);
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
          parser.push(byte);
        } else if (byte === ACK) {
          pending = null;
        } else if (byte === NAK && pending) {
          // The host asks for the reply again (bad LRC on its side).
          send(pending);
        }
      }
    });
  }

  private garbage(): Buffer {
    const n = 3 + Math.floor(this.random() * 40);
    return Buffer.from(Array.from({ length: n }, () => Math.floor(this.random() * 256)));
  }

  /** Handles one received command frame; returns the reply frame to resend on NAK, if any. */
  private handle(
    payload: Buffer,
    stream: Duplex,
    send: (b: Buffer | number[]) => void,
    later: (ms: number, fn: () => void) => void,
  ): Buffer | null {
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
    let frame: Buffer;
    if (fault?.type === 'error_byte') {
      frame = encodeFrame(Buffer.concat([cmd, Buffer.from([fault.code ?? 0x01])]));
    } else {
      frame = encodeFrame(this.reply(cmd, code, payload.subarray(cmdLen)));
    }
    if (fault?.type === 'corrupt_lrc') {
      frame = Buffer.from(frame);
      frame[frame.length - 1] = (frame[frame.length - 1] ?? 0) ^ 0x5a;
    }
    const out = fault?.type === 'truncated' ? frame.subarray(0, Math.max(2, frame.length - 3)) : frame;
    const delay = fault?.type === 'slow' ? (fault.delayMs ?? 10_000) : 0;
    if (delay > 0) later(delay, () => send(out));
    else send(out);
    return fault?.type === 'truncated' ? null : frame;
  }

  /** Reply payload for a command: command bytes, error byte, data. */
  private reply(cmd: Buffer, code: string, args: Buffer): Buffer {
    const s = this.state;
    const err = (e: number): Buffer => Buffer.concat([cmd, Buffer.from([e])]);
    const ok = (data: number[] | Buffer): Buffer => Buffer.concat([cmd, Buffer.from([0]), Buffer.from(data)]);
    const pw = args.length >= 4 ? args.readUInt32LE(0) : undefined;
    const nowS = Math.floor(this.now() / 1000);
    const dev = epochToWallClock(nowS + s.clockOffsetSeconds, this.opts.utcOffsetMinutes);
    const wc = (t: number) => epochToWallClock(t, this.opts.utcOffsetMinutes);
    const operatorPw = this.opts.password ?? 30;
    const adminPw = this.opts.adminPassword ?? 30;
    const expired = shiftExpired(s, nowS + s.clockOffsetSeconds);
    const flags =
      (s.paperPresent ? (1 << 1) | (1 << 7) : 0) |
      (1 << 9) |
      (s.coverOpen ? 1 << 10 : 0) |
      (s.drawerOpen ? 1 << 11 : 0);
    const mode = s.shiftOpen ? (expired ? 3 : 2) : 4;
    const submode = s.paperPresent ? 0 : 1;
    const u16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];
    const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

    if (code === 'FC') {
      return ok(Buffer.concat([Buffer.from([0, 0, 1, 0, 0, 0]), encodeCp1251(s.model)]));
    }
    if (code === '10' || code === '11') {
      if (pw !== operatorPw && pw !== adminPw) return err(ERR_BAD_PASSWORD);
      if (code === '10') {
        return ok([30, ...u16(flags), mode, submode, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      }
      const [v0 = '1', , v2 = '0'] = s.firmwareVersion;
      const data = [
        30, // operator
        v0.charCodeAt(0),
        v2.charCodeAt(0),
        ...u16(s.firmwareBuild),
        1,
        1,
        24, // firmware date DDMMYY
        1, // hall
        ...u16(100), // document number
        ...u16(flags),
        mode,
        submode,
        128, // port: TCP
        0x31,
        0x30, // FM version (legacy, kept by the vendor layout)
        ...u16(1),
        1,
        1,
        24, // FM date
        dev.d,
        dev.mo,
        dev.y % 100,
        dev.h,
        dev.mi,
        dev.s,
        0, // FM flags
        ...u32(Number(s.serial)),
        ...u16(s.shiftNumber),
        ...u16(2000), // free shift records
        1,
        3, // re-registrations done / left
        0x77,
        0x12,
        0x34,
        0x56,
        0x78,
        0x90, // INN
      ];
      return ok(data);
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
          const fn = Buffer.alloc(16, 0x20);
          fn.write(s.fnSerial.padEnd(16, ' ').slice(0, 16), 'latin1');
          return ok([
            3, // life phase: fiscal mode
            0,
            0,
            s.shiftOpen ? 1 : 0,
            warnings,
            dev.y % 100,
            dev.mo,
            dev.d,
            dev.h,
            dev.mi,
            ...fn,
            ...u32(1000),
          ]);
        }
        case 'FF03': {
          const e = wc(s.fnExpiry);
          return ok([e.y % 100, e.mo, e.d, 3, 1]);
        }
        case 'FF39': {
          const t = s.ofdQueue > 0 && s.ofdOldestUnsentAt !== null ? wc(s.ofdOldestUnsentAt) : null;
          return ok([
            (s.ofdConnected ? 1 : 0) | (s.ofdQueue > 0 ? 2 : 0),
            0,
            ...u16(s.ofdQueue),
            ...u32(s.ofdQueue > 0 ? 1001 - s.ofdQueue : 0),
            ...(t ? [t.y % 100, t.mo, t.d, t.h, t.mi] : [0, 0, 0, 0, 0]),
          ]);
        }
        case 'FF63':
          return ok([...u32(s.documentsRemaining), ...u32(1024), 5]);
        default:
          return err(ERR_UNKNOWN_COMMAND);
      }
    }
    return err(ERR_UNKNOWN_COMMAND);
  }
}
