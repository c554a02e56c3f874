// `tillwatch-simulator fleet` as the stack script runs it: the ready line, the control API behind it,
// and a bad inventory or scenario refused with the file and key, exit code 1.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePorts, startProcess, waitFor } from '@tillwatch/testkit';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'simulator', 'src', 'cli.ts');
const tsconfig = join(root, 'simulator', 'tsconfig.json');

function run(args: string[]) {
  const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  return startProcess(process.execPath, [tsx, '--tsconfig', tsconfig, cli, 'fleet', ...args]);
}

function tmp(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tw-fleet-')), name);
  writeFileSync(file, text);
  return file;
}

describe('tillwatch-simulator fleet', () => {
  it('prints the ready line once every till listens, serves the control API, stops on SIGTERM', async () => {
    const [till, control] = await freePorts(2);
    const inv = tmp(
      'inv.yml',
      `chains:\n  - id: c\n    regions:\n      - id: r\n        stores:\n          - id: s1\n            tills:\n              - { id: s1-t1, address: "127.0.0.1:${till}" }\n`,
    );
    const p = run(['--inventory', inv, '--control-listen', `127.0.0.1:${control}`, '--speed', '60']);
    try {
      await waitFor('the ready line', () => p.output().includes('fleet ready'));
      expect(p.output()).toContain(
        `fleet ready: 1 tills on 127.0.0.1:${till}-${till}, control http://127.0.0.1:${control}\n`,
      );
      const fleet = (await (await fetch(`http://127.0.0.1:${control}/fleet`)).json()) as { speed: number };
      expect(fleet.speed).toBe(60);
      expect(await (await fetch(`http://127.0.0.1:${till}/metrics`)).text()).toContain('till="s1-t1"');
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exitCode).toBe(0);
  });

  it.each([
    ['a bad inventory', 'inv.yml', 'chains: []\n', null, /inv\.yml: chains: expected at least one chain/],
    [
      'a scenario naming an unknown till',
      'inv.yml',
      null,
      'events:\n  - { at: 1s, till: ghost, fault: paper_out }\n',
      /scn\.yml: events\[0\]\.till: unknown till "ghost" \(not in the inventory\)/,
    ],
  ])('refuses %s with the file and key, exit 1', async (_name, invName, invText, scnText, message) => {
    const [till] = await freePorts(1);
    const inv = tmp(
      invName,
      invText ??
        `chains:\n  - id: c\n    regions:\n      - id: r\n        stores:\n          - id: s1\n            tills:\n              - { id: s1-t1, address: "127.0.0.1:${till}" }\n`,
    );
    const args = ['--inventory', inv, '--control-listen', '127.0.0.1:0'];
    if (scnText) args.push('--scenario', tmp('scn.yml', scnText));
    const p = run(args);
    expect(await p.exitCode).toBe(1);
    expect(p.output()).toMatch(message);
  });
});
