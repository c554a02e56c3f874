import { describe, expect, it } from 'vitest';
import { FULL_INVENTORY } from '@tillwatch/testkit';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './cli.js';
import { progressPrinter } from './backtest/command.js';

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
    [['inventory', 'check', full, '--colour'], 'unknown option --colour'],
    [['inventory', 'targets', '--inventroy', full], 'unknown option --inventroy (did you mean --inventory?)'],
    [['inventory', 'chek', full], 'unknown command "inventory chek" (did you mean "inventory check"?)'],
    [['backtets'], 'unknown command "backtets" (did you mean "backtest"?)'],
    [['--verison'], 'unknown option --verison (did you mean --version?)'],
    [[], 'no command given'],
  ])('exits 2 with usage for %j', async (args, message) => {
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err).toContain('usage:');
    expect(r.out).toBe('');
  });

  it('shows only the usage of the command a usage error is in', async () => {
    const r = await run('backtest', '--rules', full, '--promethus', 'http://127.0.0.1:1');
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `unknown option --promethus (did you mean --prometheus?)\n${(await run('backtest', '--help')).out}`,
    );
    expect(r.err).not.toContain('inventory');
  });

  it('backtest progress on a terminal stays quiet for a run under 2s, then one line per 10%', () => {
    const lines: string[] = [];
    let t = 0;
    const show = progressPrinter({ out: () => {}, err: (l) => lines.push(l) }, 'backtest', false, () => t);
    const at = (ms: number, done: number) => {
      t = ms;
      show({ done, queries: 40, rulesDone: Math.floor(done / 4), rules: 10 });
    };
    at(500, 4);
    at(1_900, 8);
    expect(lines).toEqual([]);
    at(3_000, 12); // 30%: the first line once the run is slow
    at(3_100, 13); // still 30%
    at(4_000, 20);
    at(8_000, 40);
    expect(lines).toEqual([
      'backtest: 30% (12/40 queries, 3/10 rules), 3.0s elapsed, about 7.0s left',
      'backtest: 50% (20/40 queries, 5/10 rules), 4.0s elapsed, about 4.0s left',
      'backtest: 100% (40/40 queries, 10/10 rules), 8.0s elapsed',
    ]);
  });
});
