// Byte links to a Shtrih registrar: a TCP socket (the device's or its "KKT server's" port) or a
// serial port. Both are a Duplex underneath; the session reads them one byte at a time with timeouts.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { DriverError } from '../errors.js';

export interface ByteLink {
  write(buf: Buffer): Promise<void>;
  /** Next byte, or null when timeoutMs passes first. Rejects with DriverError when the link is gone or the signal aborts. */
  readByte(timeoutMs: number, signal?: AbortSignal): Promise<number | null>;
  /** Discards bytes received but not yet read (stale replies, line noise). */
  drain(): void;
  close(): Promise<void>;
}

export class StreamLink implements ByteLink {
  private buf: number[] = [];
  private head = 0;
  private closedError: DriverError | null = null;
  private waiter: (() => void) | null = null;

  constructor(
    private readonly stream: Duplex,
    private readonly closeFn: () => Promise<void>,
  ) {
    stream.on('data', (chunk: Buffer) => {
      for (const b of chunk) this.buf.push(b);
      this.wake();
    });
    const gone = (why: string) => {
      this.closedError ??= new DriverError('connection', why);
      this.wake();
    };
    stream.on('error', (err: Error) => gone(`link error: ${err.message}`));
    stream.on('close', () => gone('connection closed by the device'));
    stream.on('end', () => gone('connection closed by the device'));
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  write(data: Buffer): Promise<void> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      this.stream.write(data, (err) => {
        if (err) reject(new DriverError('connection', `write failed: ${err.message}`));
        else resolve();
      });
    });
  }

  async readByte(timeoutMs: number, signal?: AbortSignal): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.head < this.buf.length) {
        const b = this.buf[this.head++] ?? 0;
        if (this.head > 4096) {
          this.buf = this.buf.slice(this.head);
          this.head = 0;
        }
        return b;
      }
      if (this.closedError) throw this.closedError;
      if (signal?.aborted) throw new DriverError('timeout', 'poll deadline passed');
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const onAbort = (): void => done();
        signal?.addEventListener('abort', onAbort, { once: true });
        function done(): void {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }
        this.waiter = done;
      });
    }
  }

  drain(): void {
    this.buf = [];
    this.head = 0;
  }

  close(): Promise<void> {
    return this.closeFn();
  }
}

export async function openTcp(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ByteLink> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host, port });
    const fail = (err: DriverError): void => {
      cleanup();
      s.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new DriverError('timeout', `connect to ${host}:${port} timed out`)),
      timeoutMs,
    );
    const onAbort = (): void => fail(new DriverError('timeout', 'poll deadline passed while connecting'));
    const onError = (err: Error): void =>
      fail(new DriverError('connection', `connect to ${host}:${port}: ${err.message}`));
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      s.off('error', onError);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    s.once('error', onError);
    s.once('connect', () => {
      cleanup();
      s.setNoDelay(true);
      resolve(s);
    });
  });
  return new StreamLink(socket, async () => {
    socket.destroy();
  });
}

/** Errors opening a serial port that mean another program (the POS) holds it. */
export function isBusyError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  const text = `${e?.code ?? ''} ${e?.message ?? ''}`;
  return /EBUSY|EACCES|EPERM|Cannot lock port|Resource temporarily unavailable|Access denied|Permission denied|resource busy/i.test(
    text,
  );
}

export async function openSerial(path: string, baudRate: number): Promise<ByteLink> {
  // Loaded lazily: a till that polls only TCP devices never loads the native binding.
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({
    path,
    baudRate,
    dataBits: 8,
    stopBits: 1,
    parity: 'none',
    autoOpen: false,
    lock: true,
  });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => {
      if (!err) return resolve();
      if (isBusyError(err)) reject(new DriverError('busy', `serial port ${path} is busy: ${err.message}`));
      else reject(new DriverError('connection', `cannot open serial port ${path}: ${err.message}`));
    });
  });
  return new StreamLink(
    port,
    () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  );
}
