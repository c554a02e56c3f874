// Runs a planned stack: checks its ports, renders its configs, starts every service in order, waits for
// each to be ready, and stops them all when asked or when one of them dies.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { loadInventory, iterateTills } from '@tillwatch/inventory';
import type { ServiceSpec, StackPlan } from './plan.js';

export class StackError extends Error {}

/** Resolves when nothing listens on 127.0.0.1:port; rejects with the error of the bind attempt otherwise. */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** Every port the stack will listen on: its services' and the simulated tills' exporter addresses. */
export function stackPorts(plan: StackPlan): { port: number; what: string; till?: boolean }[] {
  const list: { port: number; what: string; till?: boolean }[] = plan.services.flatMap((s) => s.listens);
  for (const t of iterateTills(loadInventory(plan.inventory))) {
    const m = /:(\d+)$/.exec(t.till.address);
    if (m) list.push({ port: Number(m[1]), what: `simulated till ${t.till.id}`, till: true });
  }
  return list;
}

/** Fails naming every taken port and the service that needs it (tills summarised: there may be hundreds). */
export async function checkPorts(plan: StackPlan): Promise<void> {
  const taken: { port: number; what: string; till?: boolean }[] = [];
  for (const p of stackPorts(plan)) {
    if (!(await portFree(p.port))) taken.push(p);
  }
  if (taken.length === 0) return;
  const lines = taken.filter((p) => !p.till).map((p) => `port ${p.port} (${p.what}) is already in use`);
  const tills = taken.filter((p) => p.till);
  if (tills.length > 0) {
    const shown = tills.slice(0, 3).map((p) => `${p.port} (${p.what.replace('simulated till ', '')})`);
    lines.push(
      `${tills.length} port(s) of the simulated tills of ${plan.inventory} are already in use: ${shown.join(', ')}${tills.length > 3 ? ', ...' : ''}`,
    );
  }
  throw new StackError(
    `${lines.join('\n')}\nStop whatever holds them (\`ss -ltnp\` shows the program; often an earlier stack) and start again.`,
  );
}

/** Writes the rendered configs and generates the file_sd targets from the inventory (the ops CLI). */
export function prepareStack(plan: StackPlan): void {
  mkdirSync(plan.runtimeDir, { recursive: true });
  // A folder rendered whole starts empty: an earlier run's till agents must not poll on.
  for (const d of plan.prepare.dirs) {
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
  }
  for (const [file, text] of Object.entries(plan.prepare.files))
    writeFileSync(file, text, { mode: file.endsWith('.secret') ? 0o600 : 0o644 });
  const [cmd, ...args] = plan.prepare.command;
  const r = spawnSync(cmd === 'node' ? process.execPath : cmd!, args, { cwd: plan.root, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new StackError(
      `preparing the stack: ${plan.prepare.command.join(' ')} failed:\n${r.stderr}${r.stdout}`,
    );
  }
}

export interface RunningService {
  spec: ServiceSpec;
  child: ChildProcess;
  /** The last lines the service wrote (stdout and stderr). */
  output(): string;
}

export interface RunningStack {
  plan: StackPlan;
  services: RunningService[];
  /** Resolves when the stack stops by itself because a service died: the service and how it ended. */
  died: Promise<{ service: string; how: string; output: string }>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Progress lines ("starting prometheus ..."). */
  log?: (line: string) => void;
  /** How long one service may take to become ready. */
  readyTimeoutMs?: number;
  /** Also copy every service's output to this stream (besides <runtime>/logs/<service>.log). */
  echo?: NodeJS.WritableStream;
  /** Aborting while the stack starts stops what already runs and rejects (Ctrl-C during start). */
  signal?: AbortSignal;
}

/**
 * Services run in their own process groups (so a stop reaches their children), which also means they
 * outlive this process if it exits without stopping them. This last-resort hook signals every group
 * still running when the process exits, whatever the reason.
 */
const liveGroups = new Set<number>();
process.on('exit', () => {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
});

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exited with code ${code}`;
}

export async function startStack(plan: StackPlan, opts: StartOptions = {}): Promise<RunningStack> {
  const log = opts.log ?? (() => {});
  await checkPorts(plan);
  prepareStack(plan);
  const logs = join(plan.runtimeDir, 'logs');
  mkdirSync(logs, { recursive: true });

  const running: RunningService[] = [];
  const files: WriteStream[] = [];
  let stopping = false;
  let reportDeath: (d: { service: string; how: string; output: string }) => void = () => {};
  const died = new Promise<{ service: string; how: string; output: string }>((r) => (reportDeath = r));

  const stopAll = async () => {
    stopping = true;
    // Reverse order: the simulator and Prometheus go before the bridge, so nothing is lost half-sent.
    for (const s of [...running].reverse()) await stopChild(s.child);
    await Promise.all(files.map((f) => new Promise((r) => f.end(r))));
  };

  const launch = (spec: ServiceSpec): RunningService => {
    const [cmd, ...args] = spec.command;
    const child = spawn(cmd === 'node' ? process.execPath : cmd!, args, {
      cwd: plan.root,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group, so stopping reaches the children a service starts (Vite's esbuild).
      detached: true,
    });
    const file = createWriteStream(join(logs, `${spec.name}.log`));
    files.push(file);
    let tail = '';
    const keep = (b: Buffer) => {
      tail = (tail + b.toString()).slice(-8_000);
      file.write(b);
      opts.echo?.write(b);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const svc: RunningService = { spec, child, output: () => tail };
    if (child.pid !== undefined) liveGroups.add(child.pid);
    child.on('error', (e) => {
      tail += `\n${e.message}`;
    });
    child.on('exit', (code, signal) => {
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      if (stopping) return;
      const how = describeExit(code, signal);
      reportDeath({ service: spec.name, how, output: tail });
      void stopAll();
    });
    running.push(svc);
    return svc;
  };

  try {
    for (const spec of plan.services) {
      if (opts.signal?.aborted) throw new StackError('start interrupted');
      log(`starting ${spec.title}: ${spec.command.join(' ')}`);
      const svc = launch(spec);
      await waitReady(svc, opts.readyTimeoutMs ?? 90_000, opts.signal);
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  return { plan, services: running, died, stop: stopAll };
}

async function waitReady(svc: RunningService, timeoutMs: number, abort?: AbortSignal): Promise<void> {
  const { spec, child } = svc;
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (abort?.aborted) throw new StackError('start interrupted');
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new StackError(
        `${spec.title} (${spec.name}) ${describeExit(child.exitCode, child.signalCode)} before it was ready:\n${svc.output()}`,
      );
    }
    const lineSeen = !spec.readyLine || spec.readyLine.test(svc.output());
    if (lineSeen) {
      try {
        const res = await fetch(spec.readyUrl, { signal: AbortSignal.timeout(2_000) });
        if (res.ok) return;
        last = `HTTP ${res.status}`;
      } catch (e) {
        last = (e as Error).message;
      }
    } else {
      last = `no "${spec.readyLine!.source}" line yet`;
    }
    if (Date.now() > deadline) {
      throw new StackError(
        `${spec.title} (${spec.name}) not ready after ${timeoutMs / 1000} s (${spec.readyUrl}: ${last}):\n${svc.output()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const signal = (s: NodeJS.Signals) => {
    try {
      // Negative pid: the process group this supervisor started for the service, nothing else.
      process.kill(-child.pid!, s);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 8_000);
  await exited;
  clearTimeout(timer);
}
