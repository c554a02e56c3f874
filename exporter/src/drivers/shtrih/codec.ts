// Shtrih-M protocol framing: STX LEN CMD [DATA] LRC (docs/protocols/shtrih-m.md, "Frame" and "Exchange").
// Written by hand: no maintained npm package implements this protocol.

export const STX = 0x02;
export const ENQ = 0x05;
export const ACK = 0x06;
export const NAK = 0x15;

/** XOR of LEN, command and data bytes. */
export function lrc(bytes: Uint8Array): number {
  let x = 0;
  for (const b of bytes) x ^= b;
  return x;
}

/** Frames a payload (command bytes + data). LEN counts every payload byte. */
export function encodeFrame(payload: Uint8Array): Buffer {
  if (payload.length === 0 || payload.length > 255) {
    throw new RangeError(`Shtrih payload must be 1..255 bytes, got ${payload.length}`);
  }
  const out = Buffer.alloc(payload.length + 3);
  out[0] = STX;
  out[1] = payload.length;
  out.set(payload, 2);
  out[out.length - 1] = lrc(out.subarray(1, out.length - 1));
  return out;
}

export type ParseEvent =
  { kind: 'frame'; payload: Buffer } | { kind: 'error'; reason: 'lrc' | 'framing'; detail: string };

/**
 * Incremental frame parser: feed it bytes one at a time once STX has been seen.
 * Never throws; any byte sequence yields at most one event per completed or broken frame.
 */
export class FrameParser {
  private state: 'stx' | 'len' | 'body' = 'stx';
  private len = 0;
  private body: number[] = [];

  /** True while a frame has started but not completed (used to classify a timeout as truncation). */
  get inFrame(): boolean {
    return this.state !== 'stx';
  }

  reset(): void {
    this.state = 'stx';
    this.len = 0;
    this.body = [];
  }

  push(byte: number): ParseEvent | null {
    switch (this.state) {
      case 'stx':
        if (byte === STX) {
          this.state = 'len';
          return null;
        }
        return { kind: 'error', reason: 'framing', detail: `expected STX, got 0x${hex(byte)}` };
      case 'len':
        if (byte === 0) {
          this.reset();
          return { kind: 'error', reason: 'framing', detail: 'zero frame length' };
        }
        this.len = byte;
        this.body = [];
        this.state = 'body';
        return null;
      case 'body': {
        if (this.body.length < this.len) {
          this.body.push(byte);
          return null;
        }
        // This byte is the LRC.
        const payload = Buffer.from(this.body);
        const expected = lrc(Buffer.concat([Buffer.from([this.len]), payload]));
        this.reset();
        if (byte !== expected) {
          return {
            kind: 'error',
            reason: 'lrc',
            detail: `LRC 0x${hex(byte)} != computed 0x${hex(expected)}`,
          };
        }
        return { kind: 'frame', payload };
      }
    }
  }
}

/** Decodes one complete buffer holding exactly one frame; for tests, fuzzing and the emulator. */
export function decodeFrame(buf: Uint8Array): ParseEvent {
  const parser = new FrameParser();
  for (let i = 0; i < buf.length; i++) {
    const ev = parser.push(buf[i] ?? 0);
    if (ev) {
      if (ev.kind === 'frame' && i !== buf.length - 1) {
        return { kind: 'error', reason: 'framing', detail: `${buf.length - i - 1} trailing bytes` };
      }
      return ev;
    }
  }
  return { kind: 'error', reason: 'framing', detail: 'truncated frame' };
}

export function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
