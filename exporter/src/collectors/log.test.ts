import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogTail } from './log.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('LogTail', () => {
  it('starts at the end on first start, then follows appends, partial lines and rotation', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-log-'));
    const file = join(dir, 'pos.log');
    writeFileSync(file, 'ERROR history\n');
    const tail = new LogTail(file, 'utf-8');
    expect(await tail.read()).toEqual([]);
    appendFileSync(file, 'ERROR one\nhalf a li');
    expect(await tail.read()).toEqual(['ERROR one']);
    appendFileSync(file, 'ne\r\n');
    expect(await tail.read()).toEqual(['half a line']);
    // logrotate: the last lines land in the old file just before the rename, then a new file starts.
    appendFileSync(file, 'last old line\n');
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'first new line\n');
    expect(await tail.read()).toEqual(['last old line', 'first new line']);
    // copytruncate: same file, shorter than where we were.
    appendFileSync(file, 'more\n');
    expect(await tail.read()).toEqual(['more']);
    truncateSync(file, 0);
    appendFileSync(file, 'after truncate\n');
    expect(await tail.read()).toEqual(['after truncate']);
    await tail.close();
  });

  it('reads a file that appears after start from its beginning, and decodes windows-1251', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-log-'));
    const file = join(dir, 'pos.log');
    const tail = new LogTail(file, 'windows-1251');
    expect(await tail.read()).toEqual([]);
    // "Ошибка ККТ" in windows-1251, as Russian POS programs on Windows write it.
    writeFileSync(file, Buffer.from([0xce, 0xf8, 0xe8, 0xe1, 0xea, 0xe0, 0x20, 0xca, 0xca, 0xd2, 0x0a]));
    expect(await tail.read()).toEqual(['Ошибка ККТ']);
    await tail.close();
  });
});
