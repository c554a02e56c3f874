// Counts regex matches in log files (POS program errors, UTM transport errors). Tailing starts at
// the end on first start (old lines are history, not news) and survives rotation: the old file is
// read to its end before the new one is opened from its start; a truncated file is re-read from 0.
// The file is hostile input as far as memory goes (a runaway writer, a crash's NUL-filled hole):
// what is held per file is bounded by one read piece plus one line, whatever the file holds.
import type { FileHandle } from 'node:fs/promises';
import { stat } from '../fs-async.js';
import { fsPromises } from '../lazy-builtins.js';
import { resolve } from 'node:path';
import { TextDecoder } from 'node:util';
import { z } from 'zod';
import { registerCollector } from '../collector.js';
import { regexString } from './schemas.js';

const regex = regexString;

const logSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected letters, digits, "_", "." or "-"' }),
  path: z.string().min(1),
  /** Pattern name -> regular expression. */
  patterns: z.record(
    z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'pattern names use letters, digits, "_", "." or "-"' }),
    regex,
  ),
  /** Text encoding of the file: any WHATWG label, e.g. utf-8, windows-1251, utf-16le. */
  encoding: z
    .string()
    .default('utf-8')
    .refine(
      (e) => {
        try {
          new TextDecoder(e);
          return true;
        } catch {
          return false;
        }
      },
      { error: 'unknown text encoding' },
    ),
  ignore_case: z.boolean().default(false),
});

const schema = z.array(logSchema).default([]);

/** At most this much is read from one file per poll, so a log storm cannot starve the till's CPU. */
const MAX_READ_PER_POLL = 8 * 1024 * 1024;
/**
 * Bytes read at a time. Each piece is split and matched before the next read, so the event loop (which
 * also serves /metrics) is never held for long, and memory per file stays at one piece plus one line.
 */
const CHUNK_BYTES = 16 * 1024;
/**
 * Longest line matched whole, in characters. A longer line (a program dumping a blob, a runaway
 * writer with no newline) has its head matched and the rest skipped up to its end: holding it
 * would let one log file grow the exporter past the service unit's MemoryMax (issue 23).
 */
export const MAX_LINE_LENGTH = 64 * 1024;

/**
 * A line ends at LF, CRLF, a bare CR (old Mac-style writers, progress output) or NUL bytes: a file
 * system leaves a run of NULs where a crash lost a file's last blocks, and the program then goes on
 * appending after the hole, so the hole separates lines rather than starting one. A run of these
 * counts as one break: empty lines match nothing worth counting, and a flood of them stays cheap.
 */
const LINE_END = /[\r\n\0]+/g;

export class LogTail {
  private handle: FileHandle | null = null;
  private ino = -1;
  private offset = 0;
  private partial = '';
  /** Inside an over-long line whose head was already delivered: drop text up to the next line end. */
  private skipping = false;
  private first = true;
  private decoder: TextDecoder;
  /** Why the file could not be read on the last read() (null when it was). */
  problem: string | null = null;
  /** Lines longer than MAX_LINE_LENGTH seen so far (only their head was matched). */
  truncatedLines = 0;
  /** False while more than MAX_READ_PER_POLL was waiting, so the next read() goes on from there. */
  caughtUp = true;

  constructor(
    readonly path: string,
    private readonly encoding: string,
  ) {
    this.decoder = new TextDecoder(encoding);
  }

  /** Characters of an unfinished line held between reads (never more than MAX_LINE_LENGTH). */
  get heldChars(): number {
    return this.partial.length;
  }

  /** Calls onLine for each complete line appended since the last call; stops early once `signal` aborts. */
  async read(onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
    try {
      await this.follow(onLine, signal);
    } catch (err) {
      this.problem = (err as Error).message;
    }
  }

  private async follow(onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
    let budget = MAX_READ_PER_POLL;
    if (this.handle) {
      budget -= await this.drain(onLine, budget, signal);
      // Not through the open file yet: finish it before looking for a rotated successor.
      if (!this.caughtUp) return;
    }
    let st;
    try {
      st = await stat(this.path);
    } catch (err) {
      // Missing (mid-rotation or not yet created): when it appears it is new, so read it from 0.
      this.first = false;
      this.problem = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message;
      return;
    }
    if (!st.isFile()) {
      // A FIFO would block the read forever, a device could be endless: only regular files are tailed.
      this.problem = 'not a regular file';
      await this.close();
      this.ino = -1;
      return;
    }
    if (!this.handle || st.ino !== this.ino) {
      await this.close();
      this.handle = await fsPromises().open(this.path, 'r');
      this.ino = st.ino;
      this.offset = this.first ? st.size : 0;
      this.restart();
      this.first = false;
      await this.drain(onLine, budget, signal);
    } else if (st.size < this.offset) {
      this.offset = 0;
      this.restart();
      await this.drain(onLine, budget, signal);
    }
    this.problem = null;
  }

  private restart(): void {
    this.partial = '';
    this.skipping = false;
    this.decoder = new TextDecoder(this.encoding);
  }

  /** Reads up to `budget` bytes from the open file, a piece at a time; returns the bytes read. */
  private async drain(onLine: (line: string) => void, budget: number, signal?: AbortSignal): Promise<number> {
    const handle = this.handle;
    if (!handle) return 0;
    const { size } = await handle.stat();
    if (size < this.offset) return 0;
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let read = 0;
    // A run past its timeout stops between pieces, where the position is consistent.
    while (read < budget && this.offset < size && !signal?.aborted) {
      const length = Math.min(size - this.offset, budget - read, CHUNK_BYTES);
      const { bytesRead } = await handle.read(buf, 0, length, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      read += bytesRead;
      this.feed(this.decoder.decode(buf.subarray(0, bytesRead), { stream: true }), onLine);
    }
    this.caughtUp = this.offset >= size;
    return read;
  }

  private feed(text: string, onLine: (line: string) => void): void {
    let start = 0;
    LINE_END.lastIndex = 0;
    for (let m = LINE_END.exec(text); m; m = LINE_END.exec(text)) {
      this.endLine(text.slice(start, m.index), onLine);
      start = m.index + m[0].length;
    }
    this.grow(text.slice(start), onLine);
  }

  private endLine(rest: string, onLine: (line: string) => void): void {
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    const line = this.partial + rest;
    this.partial = '';
    if (line.length > MAX_LINE_LENGTH) {
      this.truncatedLines += 1;
      onLine(line.slice(0, MAX_LINE_LENGTH));
    } else if (line.length > 0) {
      onLine(line);
    }
  }

  private grow(rest: string, onLine: (line: string) => void): void {
    if (this.skipping || rest.length === 0) return;
    this.partial += rest;
    if (this.partial.length > MAX_LINE_LENGTH) {
      // Match the head now and forget the line: whatever follows up to its end is skipped.
      this.truncatedLines += 1;
      onLine(this.partial.slice(0, MAX_LINE_LENGTH));
      this.partial = '';
      this.skipping = true;
    }
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }
}

registerCollector({
  name: 'log',
  configKey: 'logs',
  schema,
  defaultEnabled: (logs) => logs.length > 0,
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 10,
  create(logs, env) {
    const tails = logs.map((l) => ({
      name: l.name,
      tail: new LogTail(resolve(env.configDir, l.path), l.encoding),
      patterns: Object.entries(l.patterns).map(([name, re]) => ({
        name,
        re: new RegExp(re, l.ignore_case ? 'i' : ''),
        count: 0,
      })),
      /** The problem last logged, so a missing file is reported once, not on every run. */
      reported: null as string | null,
    }));
    return {
      devices: [],
      async collect(ctx) {
        for (const t of tails) {
          await t.tail.read((line) => {
            for (const p of t.patterns) if (p.re.test(line)) p.count += 1;
          }, ctx.signal);
          const problem = t.tail.problem;
          if (problem !== t.reported) {
            const fields = { log: t.name, path: t.tail.path };
            if (problem) ctx.logger.warn(fields, `log file cannot be read: ${problem}`);
            else ctx.logger.info(fields, 'log file readable again');
            t.reported = problem;
          }
        }
        return {
          families: [
            {
              name: 'till_log_matches_total',
              help: 'Lines of the log file that matched the pattern since the exporter started.',
              type: 'counter',
              samples: tails.flatMap((t) =>
                t.patterns.map((p) => ({ labels: { log: t.name, pattern: p.name }, value: p.count })),
              ),
            },
            {
              name: 'till_log_file_readable',
              help: '1 when the configured log file exists and could be read on the last run.',
              type: 'gauge',
              samples: tails.map((t) => ({ labels: { log: t.name }, value: t.tail.problem ? 0 : 1 })),
            },
            {
              name: 'till_log_lines_truncated_total',
              help: 'Lines longer than the line length limit; only their head was matched.',
              type: 'counter',
              samples: tails.map((t) => ({ labels: { log: t.name }, value: t.tail.truncatedLines })),
            },
          ],
        };
      },
      async close() {
        await Promise.all(tails.map((t) => t.tail.close()));
      },
    };
  },
});
