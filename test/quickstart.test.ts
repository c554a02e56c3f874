// The newcomer's stack (issue #20): `npm start` run as the README's Quick start says, and what a person then
// meets. Every URL of the README's table answers with a page a person reads (the Telegram and mail
// messages as lists with their text, not JSON or base64), SIGINT or SIGTERM sent to the `npm start`
// process (not Ctrl-C to a terminal's whole process group) stops every service it started, and nothing is
// written outside .tmp/. The same main job on free ports and a 2 × 2 inventory (TILLWATCH_STACK_OPTIONS),
// so it runs beside anything else on the machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@tillwatch/testkit';
import {
  DEFAULT_PORTS,
  portFree,
  repoRoot,
  stackPorts,
  type StackOptions,
  type StackPlan,
} from '../scripts/stack/index.js';
import { iterateTills, loadInventory } from '@tillwatch/inventory';
import { planTestStack, stackClient } from './support/stack.js';

/** What a browser asks for: HTML first. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

interface NpmStart {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Every `npm start` this file spawned and every process seen below one, for the cleanup. */
const runs: { child: ChildProcess }[] = [];
const seen = new Set<number>();

/** `npm start` with the stack's options, in its own process group so a signal reaches it alone. */
function npmStart(options: StackOptions): NpmStart {
  const child = spawn('npm', ['start'], {
    cwd: repoRoot,
    env: { ...process.env, TILLWATCH_STACK_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  runs.push({ child });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  return { child, output: () => out, exited };
}

async function outputLine(run: NpmStart, line: RegExp, timeoutMs: number): Promise<void> {
  let gone = false;
  void run.exited.then(() => (gone = true));
  await waitFor(
    `"${line.source}" from npm start`,
    async () => {
      if (line.test(run.output())) return true;
      if (gone) throw new Error(`npm start exited before "${line.source}":\n${run.output()}`);
      return undefined;
    },
    { timeoutMs },
  );
}

/** Every live process below `pid` (the services run in their own process groups, still its descendants). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      seen.add(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Files and folders git does not track, outside .tmp/ (ignored folders such as node_modules/ collapsed). */
function untrackedOutsideTmp(): string[] {
  const git = (...args: string[]) =>
    execFileSync('git', ['ls-files', '--others', '--directory', ...args], { cwd: repoRoot, encoding: 'utf8' })
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('.tmp/'));
  return [...git('--exclude-standard'), ...git('--ignored', '--exclude-standard')].sort();
}

/** The URLs of the README's Quick start table, on this run's ports. */
function readmeUrls(plan: StackPlan): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const table = /\| what \| URL \|\n([\s\S]*?)\n\n/.exec(readme)?.[1] ?? '';
  const byDefault = new Map<number, number>(
    Object.entries(DEFAULT_PORTS).map(([k, p]) => [p, plan.ports[k as keyof typeof DEFAULT_PORTS]]),
  );
  return (
    table
      .split('\n')
      // The URL column: the row's last cell, which may add a note after the URL.
      .map((row) => /\|\s*(http:\/\/127\.0\.0\.1:[^\s|]+)[^|]*\|\s*$/.exec(row)?.[1])
      .filter((u): u is string => u !== undefined)
      .map((u) => u.replace(/127\.0\.0\.1:(\d+)/g, (_m, p: string) => `127.0.0.1:${byDefault.get(+p) ?? p}`))
  );
}

const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

let dir: string;
let plan: StackPlan;
let options: StackOptions;
let run: NpmStart;
let before: string[];

beforeAll(async () => {
  dir = join(repoRoot, '.tmp', `quickstart-test-${process.pid}`);
  plan = await planTestStack({ dir, stores: 2, tillsPerStore: 2 });
  options = {
    runtimeDir: plan.runtimeDir,
    inventory: plan.inventory,
    scenario: null,
    ports: plan.ports,
    simulatorArgs: ['--seed', '1'],
  };
  before = untrackedOutsideTmp();
  run = npmStart(options);
  // npm start first checks the clone (packages, npm ci, build), then starts and waits for every service.
  await outputLine(run, /TillWatch is running/, 300_000);
}, 320_000);

afterAll(() => {
  // Whatever a failed test left running, by pid: every run and each process seen below it (a process
  // whose parent died is no longer below the run).
  for (const r of runs) if (r.child.pid !== undefined) descendants(r.child.pid);
  const pids = [...runs.map((r) => r.child.pid), ...seen].filter((p): p is number => p !== undefined);
  for (const p of pids.filter(alive)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm start, as the README has a newcomer run it', () => {
  it('answers every URL of the README with a page a person reads', async () => {
    const urls = readmeUrls(plan);
    expect(urls.length).toBeGreaterThanOrEqual(7);
    const unreadable: string[] = [];
    for (const url of urls) {
      const r = await fetch(url, {
        headers: { accept: BROWSER_ACCEPT },
        signal: AbortSignal.timeout(15_000),
      });
      const type = r.headers.get('content-type') ?? '';
      const body = await r.text();
      // An HTML page, or the text exposition format where the URL is a /metrics page.
      const page =
        /^text\/html/.test(type) || (/\/metrics$/.test(new URL(url).pathname) && /^text\/plain/.test(type));
      if (r.status !== 200 || !page || /^\s*[[{]/.test(body))
        unreadable.push(`${url}: HTTP ${r.status}, ${type || 'no content type'}, "${body.slice(0, 80)}"`);
    }
    expect(unreadable).toEqual([]);
  });

  it('shows a fault’s Telegram message and e-mail as readable lists with their text', async () => {
    const api = stackClient(plan);
    const till = [...iterateTills(loadInventory(plan.inventory))][0]!.till.id;
    await api.injectTillFault(till, 'paper_out');
    const [message, mail] = await waitFor(
      'a Telegram message and an e-mail about the fault',
      async () => {
        const t = (await api.telegram()).find((m) => m.text.includes(till));
        const m = (await api.mails()).find((x) => x.text.includes(till));
        return t && m ? ([t, m] as const) : undefined;
      },
      { timeoutMs: 120_000 },
    );
    const page = async (url: string) => {
      const res = await fetch(url, { headers: { accept: BROWSER_ACCEPT } });
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      return text(await res.text());
    };
    // The message's words as the person reads them in Telegram (its HTML tags rendered, not shown).
    const tg = await page(plan.urls.telegram);
    expect(tg).toContain(text(message.text).trim().slice(0, 60));
    expect(tg).not.toContain('"message_id"');
    // The e-mail's subject and its decoded body, not the base64 of the raw message.
    const mails = await page(plan.urls.mail);
    expect(mails).toContain(mail.subject);
    expect(mails).toContain(mail.text.replace(/\s+/g, ' ').trim().slice(0, 60));
    const firstBodyLine = mail.raw.split(/\r?\n\r?\n/)[1]?.split(/\r?\n/)[0] ?? '';
    if (/^[A-Za-z0-9+/=]{20,}$/.test(firstBodyLine)) expect(mails).not.toContain(firstBodyLine);
  }, 150_000);

  it('writes nothing outside .tmp/ (configs, data, logs, the bridge database)', () => {
    expect(existsSync(join(plan.runtimeDir, 'bridge.db'))).toBe(true);
    expect(untrackedOutsideTmp()).toEqual(before);
  });

  it('stops every service it started when the npm start process gets SIGINT', async () => {
    const started = descendants(run.child.pid!);
    expect(started.length).toBeGreaterThanOrEqual(plan.services.length);
    process.kill(run.child.pid!, 'SIGINT');
    const how = await run.exited;
    expect(how, run.output().slice(-2000)).toEqual({ code: 0, signal: null });
    expect(run.output()).toMatch(/SIGINT: stopping the stack[\s\S]*stopped\./);
    expect(started.filter(alive)).toEqual([]);
    const taken: number[] = [];
    for (const p of stackPorts(plan)) if (!(await portFree(p.port))) taken.push(p.port);
    expect(taken).toEqual([]);
  }, 60_000);

  it('stops what it started when the npm start process gets SIGTERM while the stack is starting', async () => {
    const again = npmStart(options);
    run = again;
    // Once the bridge is starting, the Telegram emulator and the mail catcher already run.
    await outputLine(again, /starting .*bridge/i, 240_000);
    const started = descendants(again.child.pid!);
    expect(started.length).toBeGreaterThanOrEqual(2);
    process.kill(again.child.pid!, 'SIGTERM');
    const how = await again.exited;
    expect(how.signal, again.output().slice(-2000)).toBeNull();
    expect(again.output()).toContain('interrupted while starting');
    expect(started.filter(alive)).toEqual([]);
    const taken: number[] = [];
    for (const p of stackPorts(plan)) if (!(await portFree(p.port))) taken.push(p.port);
    expect(taken).toEqual([]);
  }, 300_000);
});
