// The exchange state machine against a scripted peer over a real loopback socket: the paths the
// emulator does not produce on its own (a stale reply announced by ACK to ENQ, a device stuck in ACK).
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DriverError } from '../errors.js';
import { ACK, ENQ, FrameParser, NAK, STX, encodeFrame } from './codec.js';
import { openTcp } from './link.js';
import { ShtrihSession } from './session.js';

type Script = (byte: number, frame: Buffer | null, send: (b: Buffer | number[]) => void) => void;

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A peer that hands every received ENQ/ACK/NAK byte and every complete frame to `script`. */
async function peer(script: Script): Promise<number> {
  const server = net.createServer((sock) => {
    const parser = new FrameParser();
    const send = (b: Buffer | number[]) => sock.write(Buffer.from(b));
    sock.on('data', (chunk: Buffer) => {
      for (const b of chunk) {
        if (parser.inFrame || b === STX) {
          const ev = parser.push(b);
          if (ev?.kind === 'frame') script(-1, ev.payload, send);
        } else script(b, null, send);
      }
    });
    sock.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as net.AddressInfo).port;
}

async function session(port: number, retries = 1) {
  const link = await openTcp('127.0.0.1', port, 1000);
  return { link, s: new ShtrihSession(link, { byteTimeoutMs: 200, replyTimeoutMs: 400, retries }) };
}

describe('ShtrihSession', () => {
  it('takes and confirms a stale reply announced by ACK to ENQ, then runs the command', async () => {
    let enqs = 0;
    const confirmed: number[] = [];
    const port = await peer((byte, frame, send) => {
      if (byte === ENQ) {
        enqs++;
        if (enqs === 1) send([ACK, ...encodeFrame(Buffer.from([0x11, 0x00, 0x01]))]);
        else send([NAK]);
      } else if (byte === ACK) confirmed.push(enqs);
      else if (frame) send([ACK, ...encodeFrame(Buffer.from([frame[0] ?? 0, 0x00, 0x2a]))]);
    });
    const { link, s } = await session(port);
    try {
      expect([...(await s.exchange(Buffer.from([0x10, 30, 0, 0, 0])))]).toEqual([0x10, 0x00, 0x2a]);
      expect(enqs).toBe(2);
      // The stale reply and the real one were both confirmed (the last ACK may still be in flight).
      for (let i = 0; i < 200 && confirmed.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(confirmed).toEqual([1, 2]);
    } finally {
      await link.close();
    }
  });

  it('gives up on a device that answers every ENQ with ACK and never sends the reply', async () => {
    const port = await peer((byte, _frame, send) => {
      if (byte === ENQ) send([ACK]);
    });
    const { link, s } = await session(port);
    try {
      const err = await s.exchange(Buffer.from([0x10, 30, 0, 0, 0])).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DriverError);
      expect((err as DriverError).reason).toBe('timeout');
      expect((err as DriverError).message).toBe('stale reply never came');
    } finally {
      await link.close();
    }
  });

  it('resends the command after a NAK and succeeds', async () => {
    let frames = 0;
    const port = await peer((byte, frame, send) => {
      if (byte === ENQ) send([NAK]);
      else if (frame) {
        frames++;
        if (frames === 1) send([NAK]);
        else send([ACK, ...encodeFrame(Buffer.from([0x10, 0x00]))]);
      }
    });
    const { link, s } = await session(port, 1);
    try {
      expect([...(await s.exchange(Buffer.from([0x10, 30, 0, 0, 0])))]).toEqual([0x10, 0x00]);
      expect(frames).toBe(2);
    } finally {
      await link.close();
    }
  });

  it('stops waiting when the poll signal aborts', async () => {
    const port = await peer(() => undefined);
    const link = await openTcp('127.0.0.1', port, 1000);
    const ac = new AbortController();
    const s = new ShtrihSession(link, {
      byteTimeoutMs: 60_000,
      replyTimeoutMs: 60_000,
      retries: 5,
      signal: ac.signal,
    });
    try {
      const pending = s.exchange(Buffer.from([0x10, 30, 0, 0, 0])).catch((e: unknown) => e);
      ac.abort();
      const err = await pending;
      expect((err as DriverError).reason).toBe('timeout');
      expect((err as DriverError).message).toBe('poll deadline passed');
    } finally {
      await link.close();
    }
  });
});
