import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../config.js';
import { registeredCollectors } from '../collector.js';
import { createExporter, type Exporter } from '../exporter.js';
import type { SystemInfoSource } from '../host.js';
import { folderSize, mountpointOf } from './disposable.js';
import { captureLog } from '../testdata/capture-log.js';

let dir: string;
let ex: Exporter | undefined;
afterEach(async () => {
  await ex?.stop();
  ex = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const KIB = 1024;

/** The till's filesystems as systeminformation lists them: the test folder is on "/". */
const mounts: SystemInfoSource = {
  cpuUsage: async () => 0,
  memory: async () => ({ total: 1, available: 1 }),
  filesystems: async () => [
    { mountpoint: '/', size: 120e9, available: 30e9, type: 'ext4' },
    { mountpoint: '/boot', size: 1e9, available: 5e8, type: 'ext4' },
  ],
  uptime: async () => 1,
  temperatures: async () => [],
};

async function disposableExporter(
  folders: Array<{ name: string; path: string }>,
  logger = pino({ level: 'silent' }),
): Promise<Exporter> {
  const config = parseConfig(
    { identity: { chain: 'c', region: 'r', store: 's', till: 't' }, disposable: folders },
    join(dir, 'tillwatch.yml'),
    dir,
  );
  const exporter = createExporter(config, {
    logger,
    systemInfo: mounts,
    platform: 'linux',
    collectors: registeredCollectors().filter((d) => d.name === 'disposable'),
  });
  await exporter.start();
  return exporter;
}

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('the disposable collector', () => {
  it('reports the bytes under each configured folder on its mount point, and follows the cleanup', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-disposable-'));
    mkdirSync(join(dir, 'temp', 'import', 'deep'), { recursive: true });
    writeFileSync(join(dir, 'temp', 'a.tmp'), randomBytes(64 * KIB));
    writeFileSync(join(dir, 'temp', 'import', 'deep', 'b.xml'), randomBytes(128 * KIB));
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'pos.1.log'), randomBytes(32 * KIB));
    ex = await disposableExporter([
      { name: 'pos_temp', path: 'temp' },
      { name: 'rotated_logs', path: join(dir, 'logs') },
    ]);
    await ex.collectNow();
    let text = await ex.metrics();
    // Allocated blocks: at least the bytes written, and not a whole extra file's worth more.
    const temp = sample(text, 'till_disposable_bytes', 'mountpoint="/",name="pos_temp"')!;
    expect(temp).toBeGreaterThanOrEqual(192 * KIB);
    expect(temp).toBeLessThan(192 * KIB + 64 * KIB);
    expect(
      sample(text, 'till_disposable_bytes', 'mountpoint="/",name="rotated_logs"'),
    ).toBeGreaterThanOrEqual(32 * KIB);
    expect(sample(text, 'till_disposable_scan_complete', 'name="pos_temp"')).toBe(1);

    // The nightly cleanup empties the folder: the next walk says so.
    rmSync(join(dir, 'temp', 'import'), { recursive: true });
    rmSync(join(dir, 'temp', 'a.tmp'));
    await ex.collectNow();
    text = await ex.metrics();
    expect(sample(text, 'till_disposable_bytes', 'mountpoint="/",name="pos_temp"')).toBe(0);
  });

  it('does not follow a symbolic link out of the folder, but follows a configured folder that is one', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-disposable-'));
    mkdirSync(join(dir, 'temp'));
    mkdirSync(join(dir, 'database'));
    writeFileSync(join(dir, 'database', 'pos.db'), randomBytes(256 * KIB));
    symlinkSync(join(dir, 'database'), join(dir, 'temp', 'db-link'));
    symlinkSync(join(dir, 'database', 'pos.db'), join(dir, 'temp', 'pos.db'));
    expect(await folderSize(join(dir, 'temp'))).toEqual({ bytes: 0, complete: true });
    // The configured folder itself may be a link (a temp folder moved to a data disk): it is followed.
    symlinkSync(join(dir, 'database'), join(dir, 'db-folder'));
    const linked = await folderSize(join(dir, 'db-folder'));
    expect(linked.complete).toBe(true);
    expect(linked.bytes).toBeGreaterThanOrEqual(256 * KIB);
  });

  it('a missing folder has no figure, says why once, and is counted when it appears', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-disposable-'));
    const { logger, records } = captureLog();
    ex = await disposableExporter([{ name: 'pos_temp', path: 'temp' }], logger);
    await ex.collectNow();
    await ex.collectNow();
    let text = await ex.metrics();
    expect(text).not.toContain('till_disposable_bytes{');
    expect(text).toContain('till_disposable_scan_complete{name="pos_temp"} 0');
    expect(text).toContain('till_collector_success{collector="disposable"} 1');
    const warnings = records.filter((r) => r.msg.startsWith('disposable folder'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, folder: 'pos_temp' });
    expect(warnings[0]?.msg).toContain('no such folder');

    mkdirSync(join(dir, 'temp'));
    writeFileSync(join(dir, 'temp', 'a.tmp'), randomBytes(8 * KIB));
    await ex.collectNow();
    text = await ex.metrics();
    expect(sample(text, 'till_disposable_bytes', 'mountpoint="/",name="pos_temp"')).toBeGreaterThanOrEqual(
      8 * KIB,
    );
    expect(text).toContain('till_disposable_scan_complete{name="pos_temp"} 1');
  });

  it('stops a walk of too many files and reports what it counted as incomplete', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-disposable-'));
    mkdirSync(join(dir, 'temp'));
    for (let i = 0; i < 50; i++) writeFileSync(join(dir, 'temp', `f${i}.tmp`), randomBytes(KIB));
    const part = await folderSize(join(dir, 'temp'), undefined, 20);
    expect(part).toMatchObject({ complete: false, problem: 'over 20 entries' });
    expect(part.bytes).toBeGreaterThanOrEqual(19 * KIB);
    const all = await folderSize(join(dir, 'temp'));
    expect(all.complete).toBe(true);
    expect(all.bytes).toBeGreaterThan(part.bytes!);
    // A walk whose collector timed out stops where it is.
    const aborted = await folderSize(join(dir, 'temp'), AbortSignal.abort());
    expect(aborted).toMatchObject({ bytes: 0, complete: false, problem: 'timed out' });
  });

  it('refuses a config naming one folder twice or one inside another, naming the key', () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-disposable-'));
    expect(() =>
      parseConfig(
        {
          identity: { chain: 'c', region: 'r', store: 's', till: 't' },
          disposable: [
            { name: 'pos_temp', path: '/var/lib/pos/tmp' },
            { name: 'imports', path: '/var/lib/pos/tmp/import' },
          ],
        },
        join(dir, 'tillwatch.yml'),
        dir,
      ),
    ).toThrow(/tillwatch\.yml: disposable\[1\]\.path: inside "pos_temp"/);
  });

  it('refuses a config naming one folder twice, naming the key', () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-disposable-'));
    expect(() =>
      parseConfig(
        {
          identity: { chain: 'c', region: 'r', store: 's', till: 't' },
          disposable: [
            { name: 'pos_temp', path: 'a' },
            { name: 'pos_temp', path: 'b' },
          ],
        },
        join(dir, 'tillwatch.yml'),
        dir,
      ),
    ).toThrow(ConfigError);
    expect(() =>
      parseConfig(
        {
          identity: { chain: 'c', region: 'r', store: 's', till: 't' },
          disposable: [{ name: 'x y', path: 'a' }],
        },
        join(dir, 'tillwatch.yml'),
        dir,
      ),
    ).toThrow(/tillwatch\.yml: disposable\[0\]\.name: expected letters/);
  });
});

describe('mountpointOf', () => {
  it('takes the longest mount point that holds the path', () => {
    expect(mountpointOf('/var/log/pos/old', ['/', '/var', '/var/log'], 'linux')).toBe('/var/log');
    expect(mountpointOf('/var/logs', ['/', '/var/log'], 'linux')).toBe('/');
    expect(mountpointOf('/boot', ['/', '/boot'], 'linux')).toBe('/boot');
  });

  it('reads Windows paths case-blind and with either slash', () => {
    expect(mountpointOf('c:/POS/Temp', ['C:', 'D:'], 'win32')).toBe('C:');
    expect(mountpointOf('D:\\Exchange\\archive', ['C:\\', 'D:\\'], 'win32')).toBe('D:\\');
    expect(mountpointOf('E:\\x', ['C:', 'D:'], 'win32')).toBeUndefined();
  });
});
