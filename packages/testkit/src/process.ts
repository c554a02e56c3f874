// Starting the real programs tests and benches run (Prometheus, Alertmanager, VictoriaMetrics, vite,
// the stack's own services), keeping their output for error messages, and stopping them by their own
// pid (or process group) only.
import { spawn, type ChildProcess } from 'node:child_process';
import { LOOPBACK } from './ports.js';
import { StopWaiting, waitFor } from './wait.js';

export interface ProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Start the program in a process group of its own and signal the whole group: for launchers such
   * as npx that run the real program as a child.
   */
  group?: boolean;
  /** How long stop() waits after SIGTERM before SIGKILL; default 10 s. */
  graceMs?: number;
}

export interface Proc {
  child: ChildProcess;
  pid: number | undefined;
  /** The last 20,000 characters of stdout and stderr, interleaved. */
  output(): string;
  /** True once the program has exited. */
  exited(): boolean;
  /** Resolves with the exit code (null after a signal) once the program has exited. */
  exitCode: Promise<number | null>;
  /** SIGTERM and wait; SIGKILL after the grace period. */
  stop(): Promise<void>;
  /** SIGKILL and wait: a crash, no graceful shutdown. */
  kill(): Promise<void>;
}

export function startProcess(cmd: string, args: string[], opts: ProcessOptions = {}): Proc {
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.group ?? false,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let dead = false;
  const exitCode = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      dead = true;
      resolve(code);
    });
    // A program that cannot be spawned never exits; its error ends it all the same.
    child.once('error', (err) => {
      keep(Buffer.from(`cannot start ${cmd}: ${err.message}\n`));
      dead = true;
      resolve(null);
    });
  });
  const signal = (sig: NodeJS.Signals) => {
    if (dead || child.pid === undefined) return;
    try {
      // A negative pid signals the process group this helper started, nothing else.
      if (opts.group) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // already gone
    }
  };
  const halt = async (sig: NodeJS.Signals) => {
    if (dead) return;
    signal(sig);
    const timer = setTimeout(() => signal('SIGKILL'), opts.graceMs ?? 10_000);
    await exitCode;
    clearTimeout(timer);
  };
  return {
    child,
    pid: child.pid,
    output: () => out,
    exited: () => dead,
    exitCode,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
  };
}

export interface Service extends Proc {
  name: string;
  /** http://127.0.0.1:port */
  url: string;
  port: number;
  /** Same as output(). */
  log(): string;
}

export interface ServiceOptions extends ProcessOptions {
  /** Path answered with 2xx once the program is ready, e.g. /-/ready. */
  readyPath: string;
  /** Default 30 s. */
  timeoutMs?: number;
}

/**
 * Starts `cmd args` serving HTTP on 127.0.0.1:`port` and resolves once GET readyPath answers 2xx.
 * The caller picks the port (see freePort): these programs cannot report a port the OS chose for :0.
 * If the program exits first, or is not ready in time, it is killed and the error carries its output.
 */
export async function startService(
  name: string,
  cmd: string,
  args: string[],
  port: number,
  opts: ServiceOptions,
): Promise<Service> {
  const url = `http://${LOOPBACK}:${port}`;
  const proc = startProcess(cmd, args, opts);
  try {
    await waitFor(
      `${name} to be ready`,
      async () => {
        if (proc.exited()) throw new StopWaiting(`${name} exited:\n${proc.output().slice(-2000)}`);
        return (await fetch(`${url}${opts.readyPath}`)).ok;
      },
      { timeoutMs: opts.timeoutMs ?? 30_000 },
    );
  } catch (err) {
    await proc.kill();
    if (err instanceof StopWaiting) throw new Error(err.message);
    throw new Error(`${(err as Error).message}\n${proc.output().slice(-2000)}`);
  }
  return { ...proc, name, url, port, log: proc.output };
}
