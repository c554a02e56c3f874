// The till side of remote actions on its own: the allowlist decides, nothing runs through a shell,
// hostile action names and choices run nothing, answers not signed for the request are ignored, the
// kill switch stops polling, and config mistakes name the file and key. The whole loop with the real
// bridge is alert-bridge/src/actions/remediation.test.ts and test/remediation-e2e.test.ts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@tillwatch/config';
import { ActionAgent } from './agent.js';
import { presetArgv } from './catalog.js';
import { parseAgentConfig } from './config.js';
import { HEADER_NONCE, HEADER_SIGNATURE, signResponse } from './sign.js';

const TESTDATA = fileURLToPath(new URL('./testdata/', import.meta.url));
const SECRET = 'till-secret-0123456789abcdef0123456789';
let dir: string;
let log: string;
let secretFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tw-actions-'));
  log = join(dir, 'argv.log');
  secretFile = join(dir, 'till.secret');
  writeFileSync(secretFile, `${SECRET}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(extra: Record<string, unknown> = {}, url = 'http://127.0.0.1:9') {
  return parseAgentConfig(
    {
      bridge: { url, till: 'c1/s1/t1', secret_file: secretFile },
      allow: {
        restart_utm: { program: process.execPath, args: [join(TESTDATA, 'record-argv.mjs'), log, 'utm'] },
        clear_queue: {
          program: process.execPath,
          args: [join(TESTDATA, 'record-argv.mjs'), log, 'queue', '{choice}'],
          choices: ['receipts', 'labels'],
        },
        broken: { program: process.execPath, args: [join(TESTDATA, 'fail.mjs')] },
        hung: { program: process.execPath, args: [join(TESTDATA, 'hang.mjs')], timeout: '500ms' },
      },
      ...extra,
    },
    'actions.yml',
    dir,
    'linux',
  );
}

const ran = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []);
const action = (a: string, choice?: string | null, id = Math.floor(Math.random() * 1e9) + 1) => ({
  id,
  action: a,
  choice: choice ?? null,
  expires_at: Date.now() + 60_000,
});

describe('the till allowlist', () => {
  it('runs an allowlisted action as a fixed argv and reports its output', async () => {
    rmSync(log, { force: true });
    const r = await new ActionAgent(config()).handle(action('restart_utm'));
    expect(r).toMatchObject({ result: 'succeeded', exit_code: 0 });
    expect(r.output).toContain('restarted utm');
    expect(ran()).toEqual(['["utm"]']);
  });

  it('refuses an action not on the list even when the bridge asks, and starts nothing', async () => {
    rmSync(log, { force: true });
    const agent = new ActionAgent(config());
    for (const name of ['restart_marking', 'close_shift', 'constructor', '__proto__']) {
      const r = await agent.handle(action(name));
      expect(r.result, name).toBe('refused');
    }
    expect(ran()).toEqual([]);
  });

  it('injection through the action name or the choice changes nothing', async () => {
    rmSync(log, { force: true });
    const pwned = join(dir, 'pwned');
    const agent = new ActionAgent(config());
    const hostile = [
      `receipts; touch ${pwned}`,
      `$(touch ${pwned})`,
      `\`touch ${pwned}\``,
      'receipts\ntouch /tmp/x',
      '../../../etc/passwd',
      '..',
      'receipts labels',
      '-rf',
    ];
    for (const c of hostile) expect((await agent.handle(action('clear_queue', c))).result, c).toBe('refused');
    for (const n of [`restart_utm; touch ${pwned}`, 'restart_utm\n', '../restart_utm', '$(restart_utm)'])
      expect((await agent.handle(action(n))).result, n).toBe('refused');
    // A choice on an action that declares none is refused too, not appended.
    expect((await agent.handle(action('restart_utm', 'x'))).result).toBe('refused');
    expect(existsSync(pwned)).toBe(false);
    expect(ran()).toEqual([]);
    // A declared choice is passed as one literal argument.
    expect((await agent.handle(action('clear_queue', 'labels'))).result).toBe('succeeded');
    expect(ran()).toEqual(['["queue","labels"]']);
  });

  it('reports a failing program with its exit code and output, and ends a hung one at its timeout', async () => {
    const agent = new ActionAgent(config());
    const r = await agent.handle(action('broken'));
    expect(r).toMatchObject({ result: 'failed', exit_code: 3 });
    expect(r.output).toContain('control process exited');
    const t0 = Date.now();
    const h = await agent.handle(action('hung'));
    expect(h).toMatchObject({ result: 'failed', reason: 'timed out after 500 ms' });
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('keeps to the rate limit and refuses an expired action', async () => {
    rmSync(log, { force: true });
    const agent = new ActionAgent(
      config({
        allow: {
          restart_utm: {
            program: process.execPath,
            args: [join(TESTDATA, 'record-argv.mjs'), log, 'utm'],
            rate_limit: { max: 2, per: '1h' },
          },
        },
      }),
    );
    const results = [];
    for (let i = 0; i < 3; i++) results.push((await agent.handle(action('restart_utm'))).result);
    expect(results).toEqual(['succeeded', 'succeeded', 'refused']);
    expect(ran()).toHaveLength(2);
    const old = { ...action('restart_utm'), expires_at: Date.now() - 1 };
    expect((await new ActionAgent(config()).handle(old)).result).toBe('refused');
  });

  it('dry run reports the argv it would run and runs nothing', async () => {
    rmSync(log, { force: true });
    const r = await new ActionAgent(config({ dry_run: true })).handle(action('restart_utm'));
    expect(r.result).toBe('dry_run');
    expect(r.output).toContain('record-argv.mjs');
    expect(ran()).toEqual([]);
  });
});

describe('the shipped presets', () => {
  it('are fixed argv per platform; a hung Windows service is stopped and started by net.exe', () => {
    expect(presetArgv('restart_utm', 'utm', 'linux')).toEqual([
      { argv: ['/usr/bin/systemctl', 'restart', '--', 'utm'], mayFail: false },
    ]);
    expect(presetArgv('restart_print_spooler', undefined, 'linux')).toEqual([
      { argv: ['/usr/bin/systemctl', 'restart', '--', 'cups'], mayFail: false },
    ]);
    expect(presetArgv('restart_print_spooler', undefined, 'windows')).toEqual([
      { argv: ['C:\\Windows\\System32\\net.exe', 'stop', 'Spooler', '/y'], mayFail: true },
      { argv: ['C:\\Windows\\System32\\net.exe', 'start', 'Spooler'], mayFail: false },
    ]);
    expect(presetArgv('clear_print_queue', 'receipts', 'linux')).toEqual([
      { argv: ['/usr/bin/cancel', '-a', 'receipts'], mayFail: false },
    ]);
    expect(presetArgv('clear_print_queue', 'receipts', 'windows')).toBe(
      'preset clear_print_queue is not shipped for windows',
    );
  });
});

describe('config errors name the file and the key', () => {
  const bad = (allow: unknown, platform: 'linux' | 'windows' = 'linux') => {
    try {
      parseAgentConfig(
        { bridge: { url: 'http://127.0.0.1:1', till: 'c1/s1/t1', secret_file: secretFile }, allow },
        'actions.yml',
        dir,
        platform,
      );
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('accepted');
  };
  it('refuses shell syntax, relative programs, a preset without its target, unknown keys', () => {
    expect(bad({ x: { program: '/bin/echo', args: ['a;b'] } })).toMatch(
      /^actions\.yml: allow\.x\.args\[0\]: must be one plain word/,
    );
    expect(bad({ x: { program: '/bin/echo', args: ['$(id)'] } })).toContain('allow.x.args[0]');
    expect(bad({ x: { program: 'echo' } })).toContain('allow.x.program: must be an absolute path');
    expect(bad({ x: { preset: 'restart_utm' } })).toContain('allow.x: preset restart_utm needs target');
    expect(bad({ x: { preset: 'restart_utm', target: '../etc' } })).toContain('allow.x.target');
    expect(bad({ x: { preset: 'clear_print_queue', target: 'q' } }, 'windows')).toContain(
      'not shipped for windows',
    );
    expect(bad({ x: { program: '/bin/echo', args: ['{choice}'] } })).toContain(
      'allow.x.choices: args use {choice}',
    );
    expect(bad({ 'Bad-Name': { program: '/bin/echo' } })).toContain('allow');
    expect(() =>
      parseAgentConfig(
        { bridge: { url: 'http://127.0.0.1:1', till: 'c1/s1/t1', secret_file: 'missing' } },
        'actions.yml',
        dir,
      ),
    ).toThrow(/actions\.yml: bridge\.secret_file: cannot read .*missing: ENOENT/);
  });
});

/**
 * A hostile "bridge" (an attacker on the path, or a stale recording): the real bridge never answers
 * like this, so this is the one place a hand-made server stands in, by design.
 */
async function hostileBridge(
  answer: (nonce: string, body: string) => { status?: number; signature?: string },
) {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const body = JSON.stringify({ actions: [action('restart_utm')] });
    const a = answer(String(req.headers[HEADER_NONCE]), body);
    res.writeHead(a.status ?? 200, {
      'content-type': 'application/json',
      ...(a.signature ? { [HEADER_SIGNATURE]: a.signature } : {}),
    });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('answers from the bridge', () => {
  it('an unsigned, wrongly keyed or replayed answer runs nothing', async () => {
    rmSync(log, { force: true });
    let recorded: string | undefined;
    const cases: ((nonce: string, body: string) => { signature?: string })[] = [
      () => ({}),
      (n, b) => ({ signature: signResponse('another-till-secret-0123456789abcdef', n, b) }),
      // An answer signed for an earlier request (a replay of a recorded answer).
      (n, b) => {
        const old = recorded ?? signResponse(SECRET, 'f'.repeat(32), b);
        recorded = signResponse(SECRET, n, b);
        return { signature: old };
      },
    ];
    for (const c of cases) {
      const h = await hostileBridge(c);
      const agent = new ActionAgent(config({}, h.url));
      await expect(agent.pollOnce()).rejects.toThrow(/not signed for this request/);
      await h.close();
    }
    expect(ran()).toEqual([]);
  });

  it('the kill switch (file or enabled: false) stops polling and running at once', async () => {
    rmSync(log, { force: true });
    const h = await hostileBridge((n, b) => ({ signature: signResponse(SECRET, n, b) }));
    const kill = join(dir, 'actions.disabled');
    writeFileSync(kill, '');
    expect(await new ActionAgent(config({ kill_switch_file: kill }, h.url)).pollOnce()).toEqual([]);
    expect(await new ActionAgent(config({ enabled: false }, h.url)).pollOnce()).toEqual([]);
    expect(h.seen).toEqual([]);
    rmSync(kill);
    // Without it the same (correctly signed) answer is acted on: the switch is what stopped it.
    const agent = new ActionAgent(config({ kill_switch_file: kill }, h.url));
    expect((await agent.pollOnce()).map((o) => o.report.result)).toEqual(['succeeded']);
    expect(ran()).toEqual(['["utm"]']);
    expect(h.seen).toHaveLength(2);
    await h.close();
  });
});
