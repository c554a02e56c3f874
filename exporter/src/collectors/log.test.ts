import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config.js';
import { createExporter, type Exporter } from '../exporter.js';
import { registeredCollectors } from '../collector.js';
import { LogTail, MAX_LINE_LENGTH } from './log.js';
import { captureLog } from '../testdata/capture-log.js';

let dir: string;
let ex: Exporter | undefined;
afterEach(async () => {
  await ex?.stop();
  ex = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Everything one read() delivers, as a list. */
async function lines(tail: LogTail): Promise<string[]> {
  const out: string[] = [];
  await tail.read((l) => out.push(l));
  return out;
}

/** Reads until the tail has caught up with the file (each read() is bounded). */
async function drain(tail: LogTail): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const got = await lines(tail);
    if (got.length === 0 && tail.caughtUp) return out;
    out.push(...got);
  }
  throw new Error('the tail never caught up');
}

/** A tail of a new, empty pos.log in a fresh directory, already past its first read. */
async function emptyTail(): Promise<{ file: string; tail: LogTail }> {
  dir = mkdtempSync(join(tmpdir(), 'tillwatch-log-'));
  const file = join(dir, 'pos.log');
  writeFileSync(file, '');
  const tail = new LogTail(file, 'utf-8');
  await lines(tail);
  return { file, tail };
}

describe('LogTail', () => {
  it('starts at the end on first start, then follows appends, partial lines and rotation', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-log-'));
    const file = join(dir, 'pos.log');
    writeFileSync(file, 'ERROR history\n');
    const tail = new LogTail(file, 'utf-8');
    expect(await lines(tail)).toEqual([]);
    appendFileSync(file, 'ERROR one\nhalf a li');
    expect(await lines(tail)).toEqual(['ERROR one']);
    appendFileSync(file, 'ne\r\n');
    expect(await lines(tail)).toEqual(['half a line']);
    // logrotate: the last lines land in the old file just before the rename, then a new file starts.
    appendFileSync(file, 'last old line\n');
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'first new line\n');
    expect(await lines(tail)).toEqual(['last old line', 'first new line']);
    // copytruncate: same file, shorter than where we were.
    appendFileSync(file, 'more\n');
    expect(await lines(tail)).toEqual(['more']);
    truncateSync(file, 0);
    appendFileSync(file, 'after truncate\n');
    expect(await lines(tail)).toEqual(['after truncate']);
    await tail.close();
  });

  it('reads a file that appears after start from its beginning, and decodes windows-1251', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-log-'));
    const file = join(dir, 'pos.log');
    const tail = new LogTail(file, 'windows-1251');
    expect(await lines(tail)).toEqual([]);
    // "Ошибка ККТ" in windows-1251, as Russian POS programs on Windows write it.
    writeFileSync(file, Buffer.from([0xce, 0xf8, 0xe8, 0xe1, 0xea, 0xe0, 0x20, 0xca, 0xca, 0xd2, 0x0a]));
    expect(await lines(tail)).toEqual(['Ошибка ККТ']);
    await tail.close();
  });

  // Issue 23: 160 MB without a newline took the exporter from 55 MB to 1.6 GB of RSS.
  it('matches only the head of an over-long line and skips the rest, keeping what follows', async () => {
    const { file, tail } = await emptyTail();
    appendFileSync(file, 'ERROR head of a runaway line ');
    // 20 MiB without a newline, written in pieces as a misbehaving program would.
    const piece = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 20; i++) appendFileSync(file, piece);
    appendFileSync(file, ' tail of it\nERROR next line\n');
    const got = await drain(tail);
    expect(got.map((l) => l.length)).toEqual([MAX_LINE_LENGTH, 'ERROR next line'.length]);
    expect(got[0]?.startsWith('ERROR head of a runaway line xxx')).toBe(true);
    expect(got[1]).toBe('ERROR next line');
    expect(tail.truncatedLines).toBe(1);
    // What the tail holds between reads never exceeds one line's worth.
    expect(tail.heldChars).toBe(0);
    await tail.close();
  });

  it('holds at most one line worth of text while a line without a newline grows', async () => {
    const { file, tail } = await emptyTail();
    const piece = 'y'.repeat(1024 * 1024);
    for (let i = 0; i < 12; i++) {
      appendFileSync(file, piece);
      await lines(tail);
      expect(tail.heldChars).toBeLessThanOrEqual(MAX_LINE_LENGTH);
    }
    await tail.close();
  });

  it('ends lines at a bare CR as well as at LF and CRLF, also when a CRLF is split between reads', async () => {
    const { file, tail } = await emptyTail();
    appendFileSync(file, 'ERROR one\rERROR two\r');
    expect(await lines(tail)).toEqual(['ERROR one', 'ERROR two']);
    appendFileSync(file, 'three\r');
    expect(await lines(tail)).toEqual(['three']);
    // The LF of a CRLF arriving in the next read does not make an extra empty line.
    appendFileSync(file, '\nfour\r\n');
    expect(await lines(tail)).toEqual(['four']);
    await tail.close();
  });

  it('treats a NUL-filled region (what a crash leaves in a log) as a line break, not as one long line', async () => {
    const { file, tail } = await emptyTail();
    appendFileSync(file, 'ERROR before the crash\n');
    // A sparse 30 MiB hole reads as NUL bytes, exactly like the zero-filled blocks a file system
    // leaves after a power cut; the program then goes on appending.
    truncateSync(file, 30 * 1024 * 1024);
    appendFileSync(file, 'ERROR after the crash\n');
    expect(await drain(tail)).toEqual(['ERROR before the crash', 'ERROR after the crash']);
    expect(tail.truncatedLines).toBe(0);
    await tail.close();
  });

  it('says whether the file is there and readable', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-log-'));
    const file = join(dir, 'pos.log');
    const tail = new LogTail(file, 'utf-8');
    await lines(tail);
    expect(tail.problem).toMatch(/^missing/);
    writeFileSync(file, 'hello\n');
    await lines(tail);
    expect(tail.problem).toBeNull();
    // A directory where the file should be: a wrong path, or something swapped in by hand.
    rmSync(file);
    mkdirSync(file);
    await lines(tail);
    expect(tail.problem).toBe('not a regular file');
    await tail.close();
  });
});

/** An exporter with only the log collector, tailing pos.log in `dir` for "ERROR". */
async function logExporter(logger: pino.Logger): Promise<Exporter> {
  const config = parseConfig(
    {
      identity: { chain: 'c', region: 'r', store: 's', till: 't' },
      logs: [{ name: 'pos', path: 'pos.log', patterns: { error: 'ERROR' } }],
    },
    join(dir, 'tillwatch.yml'),
    dir,
  );
  const exporter = createExporter(config, {
    logger,
    collectors: registeredCollectors().filter((d) => d.name === 'log'),
  });
  await exporter.start();
  return exporter;
}

describe('the log collector', () => {
  it('reports a missing log file with till_log_file_readable 0 and one warning, and recovers', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-log-'));
    const { logger, records } = captureLog();
    ex = await logExporter(logger);
    await ex.collectNow();
    let text = await ex.metrics();
    expect(text).toContain('till_log_file_readable{log="pos"} 0');
    expect(text).toContain('till_collector_success{collector="log"} 1');
    const warnings = records.filter((r) => r.msg.startsWith('log file'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, log: 'pos', path: join(dir, 'pos.log') });
    expect(warnings[0]?.msg).toMatch(/missing/);

    writeFileSync(join(dir, 'pos.log'), 'ERROR first\n');
    await ex.collectNow();
    text = await ex.metrics();
    expect(text).toContain('till_log_file_readable{log="pos"} 1');
    expect(text).toContain('till_log_matches_total{log="pos",pattern="error"} 1');
    // The warning comes once per change, not once per run; recovery is logged too.
    await ex.collectNow();
    expect(records.filter((r) => r.msg.startsWith('log file'))).toHaveLength(2);
  });

  it('counts lines cut at the line length limit', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-log-'));
    writeFileSync(join(dir, 'pos.log'), '');
    ex = await logExporter(pino({ level: 'silent' }));
    appendFileSync(join(dir, 'pos.log'), `ERROR ${'z'.repeat(MAX_LINE_LENGTH * 3)}\nERROR short\n`);
    await ex.collectNow();
    const text = await ex.metrics();
    expect(text).toContain('till_log_lines_truncated_total{log="pos"} 1');
    expect(text).toContain('till_log_matches_total{log="pos",pattern="error"} 2');
  });
});
