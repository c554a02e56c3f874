import { describe, expect, it } from 'vitest';
import { FULL_INVENTORY } from '@tillwatch/testkit';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './cli.js';

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const full = FULL_INVENTORY;

describe('tillwatch CLI', () => {
  it('inventory check summarises a good file', async () => {
    expect(await run('inventory', 'check', full)).toEqual({
      code: 0,
      out: `${full}: ok: 2 chains, 2 stores, 3 tills`,
      err: '',
    });
  });

  it('inventory check exits 1 with the file and key of each problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-cli-'));
    const file = join(dir, 'bad.yml');
    writeFileSync(file, 'chains: []\n');
    expect(await run('inventory', 'check', file)).toEqual({
      code: 1,
      out: '',
      err: `${file}: chains: expected at least one chain`,
    });
  });

  it('inventory targets writes tills.json into --out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-cli-'));
    const r = await run('inventory', 'targets', '--inventory', full, '--out', dir);
    expect(r).toMatchObject({ code: 0, out: `wrote 3 targets to ${join(dir, 'tills.json')}` });
    expect(JSON.parse(readFileSync(join(dir, 'tills.json'), 'utf8'))).toHaveLength(3);
  });

  it('inventory demo honours --stores and --tills-per-store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-cli-'));
    const file = join(dir, 'demo.yml');
    const demo = await run('inventory', 'demo', '--stores', '3', '--tills-per-store', '1', '--out', file);
    expect(demo.out).toBe(`wrote 3 tills to ${file}`);
    expect((await run('inventory', 'check', file)).out).toBe(`${file}: ok: 2 chains, 3 stores, 3 tills`);
  });

  it.each([
    [['inventory', 'targets', '--inventory', full], 'inventory targets: --out is required'],
    [
      ['inventory', 'demo', '--tills-per-store', '3..2'],
      '--tills-per-store: expected 1 <= MIN <= MAX, got "3..2"',
    ],
    [['inventory', 'demo', '--stores', 'many'], '--stores: expected a whole number, got "many"'],
    [['inventory', 'frobnicate'], 'unknown command "inventory frobnicate"'],
    [['inventory', 'check', full, '--colour'], "Unknown option '--colour'"],
  ])('exits 2 with usage for %j', async (args, message) => {
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err).toContain('usage:');
  });
});
