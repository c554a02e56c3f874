// The Shtrih-M wire format from the device's side, written from docs/protocols/shtrih-m.md ("Frame",
// "Exchange", "Numbers, dates and text"). It shares no code with the exporter's codec on purpose: the byte
// fixtures in docs/protocols/fixtures/shtrih-m.yml check each side on its own, so a framing mistake cannot
// hide by being the same in the driver and in the device it is tested against.
import iconv from 'iconv-lite';
import { wallClock } from './clock.js';

export const STX = 0x02;
export const ENQ = 0x05;
export const ACK = 0x06;
export const NAK = 0x15;

/** The check byte: LEN and every payload byte XORed together (STX stays out). */
export function checkByte(payload: Uint8Array): number {
  return payload.reduce((x, b) => x ^ b, payload.length);
}

/** `STX LEN payload LRC` for a payload of command code(s) and data. */
export function frame(payload: Uint8Array): Buffer {
  if (payload.length < 1 || payload.length > 0xff) {
    throw new RangeError(`a Shtrih frame carries 1..255 payload bytes, not ${payload.length}`);
  }
  return Buffer.concat([Buffer.from([STX, payload.length]), payload, Buffer.from([checkByte(payload)])]);
}

export type Received = { ok: true; payload: Buffer } | { ok: false; why: 'lrc' | 'zero length' };

/**
 * Collects one frame from the host, byte by byte, from its STX on. The device answers a bad check byte with
 * NAK and ignores a frame with LEN 0 (docs/protocols/shtrih-m.md, "Exchange").
 */
export class FrameCollector {
  private bytes: number[] = [];

  /** True between a frame's STX and its check byte. */
  get collecting(): boolean {
    return this.bytes.length > 0;
  }

  begin(): void {
    this.bytes = [STX];
  }

  /** Adds the next byte; returns the outcome once the frame is over. */
  add(byte: number): Received | undefined {
    this.bytes.push(byte);
    const len = this.bytes[1] ?? 0;
    if (this.bytes.length === 2 && len === 0) {
      this.bytes = [];
      return { ok: false, why: 'zero length' };
    }
    if (this.bytes.length < len + 3) return undefined;
    const payload = Buffer.from(this.bytes.slice(2, 2 + len));
    const sent = this.bytes[len + 2];
    this.bytes = [];
    return sent === checkByte(payload) ? { ok: true, payload } : { ok: false, why: 'lrc' };
  }
}

/** Little-endian unsigned integers, as every Shtrih number travels. */
export function le(value: number, bytes: 1 | 2 | 4): number[] {
  return Array.from({ length: bytes }, (_, i) => Math.floor(value / 2 ** (8 * i)) % 256);
}

/** Date and time as separate binary bytes (not BCD), in the registrar's zone; years as YY. */
export function dateBytes(seconds: number, order: 'DMY' | 'YMD', utcOffsetMinutes?: number): number[] {
  const c = wallClock(seconds, utcOffsetMinutes);
  return order === 'DMY' ? [c.day, c.month, c.year % 100] : [c.year % 100, c.month, c.day];
}

export function timeBytes(seconds: number, withSeconds: boolean, utcOffsetMinutes?: number): number[] {
  const c = wallClock(seconds, utcOffsetMinutes);
  return withSeconds ? [c.hour, c.minute, c.second] : [c.hour, c.minute];
}

/** Model names are CP1251 text. */
export function cp1251(text: string): Buffer {
  return iconv.encode(text, 'cp1251');
}
