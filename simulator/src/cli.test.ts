// `tillwatch-simulator devices` as a user runs it: starts the emulators and the control API, prints
// where they listen, and refuses a bad config file with a message naming the file and key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startProcess, waitFor } from '@tillwatch/testkit';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'simulator', 'src', 'cli.ts');
const tsconfig = join(root, 'simulator', 'tsconfig.json');

function run(args: string[]) {
  const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  return startProcess(process.execPath, [tsx, '--tsconfig', tsconfig, cli, ...args]);
}

describe('tillwatch-simulator devices', () => {
  it('starts every emulator and the control API', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-sim-'));
    const cfg = join(dir, 'devices.yml');
    writeFileSync(cfg, 'marking: { username: lm, password: secret }\n');
    const ports = [
      '--shtrih-port',
      '0',
      '--atol-port',
      '0',
      '--utm-port',
      '0',
      '--marking-port',
      '0',
      '--control-port',
      '0',
    ];
    const p = run(['devices', '--config', cfg, ...ports]);
    try {
      const url = await waitFor(
        'the control API line',
        () => /control\s+(http:\/\/\S+)/.exec(p.output())?.[1],
      );
      const devices = (await (await fetch(`${url}/devices`)).json()) as Array<{
        kind: string;
        address: string;
      }>;
      expect(devices.map((d) => d.kind)).toEqual(['shtrih', 'atol', 'utm', 'marking']);
      const marking = devices[3]?.address ?? '';
      const auth = `Basic ${Buffer.from('lm:secret').toString('base64')}`;
      const status = await fetch(`${marking}/api/v1/status`, { headers: { authorization: auth } });
      expect(((await status.json()) as { status: string }).status).toBe('ready');
    } finally {
      p.child.kill('SIGTERM');
      await p.exitCode;
    }
  });

  it('names the file and key of a bad config and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-sim-'));
    const cfg = join(dir, 'bad.yml');
    writeFileSync(cfg, 'utm: { port: "eighty" }\n');
    const p = run(['devices', '--config', cfg]);
    expect(await p.exitCode).toBe(1);
    expect(p.output()).toContain(`${cfg}: utm.port: Invalid input: expected number, received string`);
  });
});
