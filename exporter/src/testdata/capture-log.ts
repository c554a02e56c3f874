// A logger whose records a test can read: what a collector tells the till's journal, one object per line.
import { Writable } from 'node:stream';
import pino from 'pino';

export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** An info-level pino logger writing into `records`. */
export function captureLog(): { logger: pino.Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        records.push(JSON.parse(chunk.toString()) as LogRecord);
        cb();
      },
    }),
  );
  return { logger, records };
}
