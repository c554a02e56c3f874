// Every TillWatch CLI answers as a Prometheus user expects (issue 20): `--help`/`-h` and each command's
// `--help` print that usage on stdout with exit 0, `--version` prints the node_exporter-style version
// text, and a mistyped command or flag names the one meant on stderr, with the usage, exit 2. The CLIs
// run from their sources through tsx, as a user runs the built bin.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_DIR } from '@tillwatch/testkit';

const tsx = join(REPO_DIR, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** bin name → [package folder, entry point]. */
const CLIS = {
  tillwatch: ['ops', 'src/cli.ts'],
  'tillwatch-bridge': ['alert-bridge', 'src/cli.ts'],
  'tillwatch-simulator': ['simulator', 'src/cli.ts'],
  'tillwatch-exporter': ['exporter', 'src/cli.ts'],
} as const;
type Cli = keyof typeof CLIS;

function run(cli: Cli, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [dir, entry] = CLIS[cli];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsx, '--tsconfig', join(REPO_DIR, dir, 'tsconfig.json'), join(REPO_DIR, dir, entry), ...args],
      // stdin closed: hash-password must not wait for a password that `--help` does not need.
      { cwd: REPO_DIR, encoding: 'utf8', timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ).stdin?.end();
  });
}

// [cli, args, what stdout must contain, what it must not (another command's usage)]
const HELP: [Cli, string[], string, string?][] = [
  ['tillwatch', ['--help'], 'tillwatch backtest'],
  ['tillwatch', ['-h'], 'tillwatch inventory check'],
  ['tillwatch', ['help'], 'tillwatch forecast'],
  ['tillwatch', ['backtest', '--help'], '--timeout', 'tillwatch inventory'],
  ['tillwatch', ['help', 'backtest'], '--progress', 'tillwatch forecast'],
  ['tillwatch', ['forecast', '-h'], 'tillwatch forecast --prometheus URL', 'tillwatch backtest'],
  ['tillwatch', ['inventory', '--help'], 'tillwatch inventory demo', 'tillwatch backtest'],
  ['tillwatch', ['inventory', 'targets', '--help'], 'tillwatch inventory targets', 'inventory demo'],
  ['tillwatch', ['report', '--help'], '--bridge-token-file FILE', 'tillwatch backtest'],
  ['tillwatch-bridge', ['--help'], 'tillwatch-bridge --config FILE'],
  ['tillwatch-bridge', ['-h'], 'tillwatch-bridge hash-password'],
  ['tillwatch-bridge', ['hash-password', '--help'], 'Reads one password on stdin', '--config'],
  ['tillwatch-simulator', ['--help'], 'tillwatch-simulator fleet'],
  ['tillwatch-simulator', ['-h'], 'tillwatch-simulator devices'],
  ['tillwatch-simulator', ['fleet', '--help'], '--control-listen ADDR', 'tillwatch-simulator devices'],
  ['tillwatch-simulator', ['devices', '-h'], '--shtrih-port', 'tillwatch-simulator fleet'],
  ['tillwatch-exporter', ['--help'], '--web.listen-address'],
  ['tillwatch-exporter', ['-h'], '--collector.NAME'],
];

// [cli, args, the message's first line on stderr]
const TYPOS: [Cli, string[], string][] = [
  ['tillwatch', ['backtets'], 'unknown command "backtets" (did you mean "backtest"?)'],
  ['tillwatch', ['inventory', 'chek'], 'unknown command "inventory chek" (did you mean "inventory check"?)'],
  [
    'tillwatch',
    ['backtest', '--promethus', 'http://127.0.0.1:1'],
    'unknown option --promethus (did you mean --prometheus?)',
  ],
  ['tillwatch', ['--verison'], 'unknown option --verison (did you mean --version?)'],
  ['tillwatch-bridge', ['hash-pasword'], 'unknown command "hash-pasword" (did you mean "hash-password"?)'],
  ['tillwatch-bridge', ['--conifg', 'b.yml'], 'unknown option --conifg (did you mean --config?)'],
  ['tillwatch-simulator', ['fleat'], 'tillwatch-simulator: unknown command "fleat" (did you mean "fleet"?)'],
  [
    'tillwatch-simulator',
    ['fleet', '--inventry', 'i.yml'],
    'tillwatch-simulator: unknown option --inventry (did you mean --inventory?)',
  ],
  [
    'tillwatch-exporter',
    ['--confg', 'e.yml'],
    'tillwatch-exporter: unknown flag --confg (did you mean --config?)',
  ],
];

describe('every CLI', () => {
  it.each(HELP)('%s %j prints its usage on stdout, exit 0', async (cli, args, wanted, other) => {
    const r = await run(cli, args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage:/i);
    expect(r.stdout).toContain(wanted);
    if (other) expect(r.stdout).not.toContain(other);
  });

  it.each(Object.keys(CLIS) as Cli[])('%s --version prints the version text, exit 0', async (cli) => {
    const r = await run(cli, ['--version']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(
      new RegExp(
        `^${cli}, version \\d+\\.\\d+\\.\\d+ \\(revision: \\S+\\)\\n {2}node version: v\\d+\\S*\\n {2}platform: \\S+/\\S+\\n$`,
      ),
    );
  });

  it.each(TYPOS)('%s %j names what was meant on stderr, exit 2', async (cli, args, message) => {
    const r = await run(cli, args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(message);
    // The exporter points to --help as node_exporter does; the others print the command's usage.
    expect(r.stderr).toMatch(cli === 'tillwatch-exporter' ? /See tillwatch-exporter --help/ : /usage:/i);
  });
});
