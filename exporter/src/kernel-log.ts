// Reads new records of the kernel log in /dev/kmsg's format ("priority,sequence,microseconds,flags;text").
// Hand-written: the npm kmsg readers block on the device or spawn dmesg, and the peripheral collector
// needs a non-blocking read of whatever arrived since the last poll. The same code reads a regular file
// in that format (a recording, in tests), keeping its byte offset between polls.
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { stat } from './fs-async.js';
import { fsPromises } from './lazy-builtins.js';

export interface KernelRecord {
  /** Sequence number of /dev/kmsg (monotonic per boot). */
  seq: number;
  text: string;
}

/** Records of the text, continuation lines (starting with a space: key=value pairs) dropped. */
export function parseKmsg(text: string): KernelRecord[] {
  const out: KernelRecord[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+,(\d+),\d+,[^;]*;(.*)$/.exec(line);
    if (m) out.push({ seq: Number(m[1]), text: m[2] as string });
  }
  return out;
}

export class KernelLog {
  private handle: FileHandle | undefined;
  private device = false;
  private offset = 0;
  private lastSeq = -1;
  /** The first read returns what was logged before the exporter started, too. */
  first = true;

  constructor(readonly path: string) {}

  /** Records logged since the last call. Throws when the log cannot be opened (EACCES without CAP_SYSLOG). */
  async read(): Promise<KernelRecord[]> {
    if (!this.handle) {
      this.handle = await fsPromises().open(this.path, constants.O_RDONLY | constants.O_NONBLOCK);
      this.device = (await this.handle.stat()).isCharacterDevice();
    } else {
      this.first = false;
    }
    const chunks: string[] = [];
    const buf = Buffer.alloc(16 * 1024);
    if (this.device) {
      // Each read of /dev/kmsg returns one record; EAGAIN means none is left, EPIPE that the ring buffer
      // overwrote records we had not read yet (the next read goes on from the oldest one still there).
      for (let i = 0; i < 100_000; i++) {
        try {
          const { bytesRead } = await this.handle.read(buf, 0, buf.length, null);
          if (bytesRead === 0) break;
          chunks.push(buf.subarray(0, bytesRead).toString('utf8'));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN') break;
          if (code !== 'EPIPE') throw err;
        }
      }
    } else {
      const size = (await stat(this.path)).size;
      if (size < this.offset) this.offset = 0; // rotated or rewritten
      while (this.offset < size) {
        const { bytesRead } = await this.handle.read(
          buf,
          0,
          Math.min(buf.length, size - this.offset),
          this.offset,
        );
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        chunks.push(buf.subarray(0, bytesRead).toString('utf8'));
      }
    }
    let text = chunks.join('');
    if (!this.device && !text.endsWith('\n')) {
      // A line still being written: read it whole next time.
      const cut = text.lastIndexOf('\n') + 1;
      this.offset -= Buffer.byteLength(text.slice(cut));
      text = text.slice(0, cut);
    }
    // Sequence numbers guard against reading a record twice (a file rewritten from the start).
    const records = parseKmsg(text).filter((r) => r.seq > this.lastSeq);
    if (records.length > 0) this.lastSeq = records[records.length - 1]!.seq;
    return records;
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}
