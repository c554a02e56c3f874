// Counts regex matches in log files (POS program errors, UTM transport errors). Tailing starts at
// the end on first start (old lines are history, not news) and survives rotation: the old file is
// read to its end before the new one is opened from its start; a truncated file is re-read from 0.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { TextDecoder } from 'node:util';
import { z } from 'zod';
import { registerCollector, type Sample } from '../collector.js';

const regex = z.string().refine(
  (r) => {
    try {
      new RegExp(r);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'not a valid regular expression' },
);

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

export class LogTail {
  private handle: FileHandle | null = null;
  private ino = -1;
  private offset = 0;
  private partial = '';
  private first = true;
  private decoder: TextDecoder;

  constructor(
    readonly path: string,
    private readonly encoding: string,
  ) {
    this.decoder = new TextDecoder(encoding);
  }

  /** Returns the complete lines appended since the last call. */
  async read(): Promise<string[]> {
    const lines: string[] = [];
    if (this.handle) lines.push(...(await this.drain()));
    let st;
    try {
      st = await stat(this.path);
    } catch {
      // Missing (mid-rotation or not yet created): when it appears it is new, so read it from 0.
      this.first = false;
      return lines;
    }
    if (!this.handle || st.ino !== this.ino) {
      await this.handle?.close();
      this.handle = await open(this.path, 'r');
      this.ino = st.ino;
      this.offset = this.first ? st.size : 0;
      this.partial = '';
      this.decoder = new TextDecoder(this.encoding);
      this.first = false;
      lines.push(...(await this.drain()));
    } else if (st.size < this.offset) {
      this.offset = 0;
      this.partial = '';
      lines.push(...(await this.drain()));
    }
    return lines;
  }

  private async drain(): Promise<string[]> {
    const handle = this.handle;
    if (!handle) return [];
    const { size } = await handle.stat();
    if (size < this.offset) return [];
    const length = Math.min(size - this.offset, MAX_READ_PER_POLL);
    if (length <= 0) return [];
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, this.offset);
    this.offset += bytesRead;
    const text = this.partial + this.decoder.decode(buf.subarray(0, bytesRead), { stream: true });
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    return parts;
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
      })),
      counts: new Map<string, number>(Object.keys(l.patterns).map((p) => [p, 0])),
    }));
    return {
      devices: [],
      async collect(ctx) {
        for (const t of tails) {
          let lines: string[] = [];
          try {
            lines = await t.tail.read();
          } catch (err) {
            ctx.logger.warn({ log: t.name, err: (err as Error).message }, 'cannot read log file');
          }
          for (const line of lines) {
            for (const p of t.patterns)
              if (p.re.test(line)) t.counts.set(p.name, (t.counts.get(p.name) ?? 0) + 1);
          }
        }
        const samples: Sample[] = tails.flatMap((t) =>
          t.patterns.map((p) => ({
            labels: { log: t.name, pattern: p.name },
            value: t.counts.get(p.name) ?? 0,
          })),
        );
        return {
          families: [
            {
              name: 'till_log_matches_total',
              help: 'Lines of the log file that matched the pattern since the exporter started.',
              type: 'counter',
              samples,
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
