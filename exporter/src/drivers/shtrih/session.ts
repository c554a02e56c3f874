// The Shtrih-M exchange over one byte link: ENQ handshake, send with ACK/NAK confirmation,
// reply with LRC check and NAK-triggered resend. Every wait is bounded by a per-byte or
// per-reply timeout and by the poll's AbortSignal, so a misbehaving device cannot block a poll.
import { DriverError } from '../errors.js';
import { ACK, ENQ, FrameParser, NAK, STX, encodeFrame, hex } from './codec.js';
import type { ByteLink } from './link.js';

export interface SessionOptions {
  /** Wait for each byte after the first of an answer, and for ACK/NAK. */
  byteTimeoutMs: number;
  /** Wait for the first byte of a reply after the command was accepted. */
  replyTimeoutMs: number;
  /** Extra attempts after a NAK, a bad LRC, a framing error or a timeout. */
  retries: number;
  signal?: AbortSignal;
}

/** Errors after which a fresh attempt may succeed; `connection`/`busy`/`device_error` are final. */
const RETRYABLE = new Set(['timeout', 'nak', 'lrc', 'framing']);

export class ShtrihSession {
  constructor(
    private readonly link: ByteLink,
    private readonly opts: SessionOptions,
  ) {}

  /** Sends one command payload and returns the reply payload (command bytes, error byte, data). */
  async exchange(payload: Buffer): Promise<Buffer> {
    let last: DriverError | undefined;
    for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
      try {
        return await this.once(payload);
      } catch (err) {
        if (!(err instanceof DriverError) || !RETRYABLE.has(err.reason) || this.opts.signal?.aborted)
          throw err;
        last = err;
        this.link.drain();
      }
    }
    throw last ?? new DriverError('timeout', 'no attempt made');
  }

  private read(timeoutMs: number): Promise<number | null> {
    return this.link.readByte(timeoutMs, this.opts.signal);
  }

  private async handshake(): Promise<void> {
    // At most one stale reply is discarded: a device that keeps answering ACK is broken.
    for (let i = 0; i < 2; i++) {
      this.link.drain();
      await this.link.write(Buffer.from([ENQ]));
      const b = await this.read(this.opts.byteTimeoutMs);
      if (b === null) throw new DriverError('timeout', 'no answer to ENQ');
      if (b === NAK) return;
      if (b === ACK) {
        // The device still holds a reply to an earlier command: take it and confirm, then ask again.
        await this.readFrame(true);
        continue;
      }
      throw new DriverError('framing', `unexpected byte 0x${hex(b)} in answer to ENQ`);
    }
    throw new DriverError('framing', 'device keeps answering ENQ with ACK');
  }

  private async once(payload: Buffer): Promise<Buffer> {
    await this.handshake();
    const frame = encodeFrame(payload);
    let naks = 0;
    for (;;) {
      await this.link.write(frame);
      const b = await this.read(this.opts.byteTimeoutMs);
      if (b === null) throw new DriverError('timeout', 'command not confirmed');
      if (b === ACK) break;
      if (b === NAK) {
        if (++naks > this.opts.retries)
          throw new DriverError('nak', `command rejected with NAK ${naks} times`);
        continue;
      }
      throw new DriverError('framing', `unexpected byte 0x${hex(b)} instead of ACK`);
    }
    return this.readFrame(false);
  }

  /** Reads one reply frame, NAKing a bad LRC so the device resends, and ACKs the good one. */
  private async readFrame(stale: boolean): Promise<Buffer> {
    let badLrc = 0;
    for (;;) {
      const parser = new FrameParser();
      const first = await this.read(this.opts.replyTimeoutMs);
      if (first === null) throw new DriverError('timeout', stale ? 'stale reply never came' : 'no reply');
      if (first !== STX) throw new DriverError('framing', `reply starts with 0x${hex(first)}, not STX`);
      parser.push(first);
      for (;;) {
        const b = await this.read(this.opts.byteTimeoutMs);
        if (b === null) throw new DriverError('framing', 'truncated frame: device stopped mid-reply');
        const ev = parser.push(b);
        if (!ev) continue;
        if (ev.kind === 'frame') {
          await this.link.write(Buffer.from([ACK]));
          return ev.payload;
        }
        if (ev.reason === 'lrc') {
          if (++badLrc > this.opts.retries)
            throw new DriverError('lrc', `bad LRC ${badLrc} times: ${ev.detail}`);
          this.link.drain();
          await this.link.write(Buffer.from([NAK]));
          break;
        }
        throw new DriverError('framing', ev.detail);
      }
    }
  }
}
