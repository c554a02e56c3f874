// The till side of remote actions: polls the bridge (outbound only: tills sit behind NAT), checks
// every action against this till's allowlist, runs it without a shell, and reports the result.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { AgentConfig, AllowedAction } from './config.js';
import { ACTION_NAME } from './config.js';
import { HEADER_SIGNATURE, newNonce, sameSignature, signResponse, signedHeaders } from './sign.js';

export type Outcome = 'succeeded' | 'failed' | 'refused' | 'dry_run';

export interface ActionReport {
  result: Outcome;
  reason?: string;
  exit_code?: number | null;
  output?: string;
  duration_ms?: number;
}

export interface AgentLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const silent: AgentLogger = { info() {}, warn() {} };

/** What the bridge hands out: an id, the action's name and at most one choice. */
const pollAnswer = z.object({
  killed: z.boolean().optional(),
  actions: z
    .array(
      z.object({
        id: z.number().int().positive(),
        action: z.string(),
        choice: z.string().nullable().optional(),
        expires_at: z.number(),
      }),
    )
    .max(50),
});
export type PendingAction = z.infer<typeof pollAnswer>['actions'][number];

const MAX_OUTPUT = 4096;

export class ActionAgent {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Start times per action name within its rate-limit window. */
  private readonly runs = new Map<string, number[]>();
  /** Action ids already handled: an action is run at most once, whatever the bridge sends again. */
  private readonly done = new Set<number>();
  /** Counts by outcome, for the till's log and tests. */
  readonly counts: Record<Outcome | 'poll_failed', number> = {
    succeeded: 0,
    failed: 0,
    refused: 0,
    dry_run: 0,
    poll_failed: 0,
  };

  constructor(
    private readonly config: AgentConfig,
    private readonly log: AgentLogger = silent,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether everything is stopped: the config's `enabled: false` or the kill-switch file present. */
  killed(): boolean {
    const c = this.config;
    return !c.enabled || (c.killSwitchFile !== undefined && existsSync(c.killSwitchFile));
  }

  start(): void {
    const tick = async () => {
      try {
        await this.pollOnce();
      } catch (e) {
        this.counts.poll_failed++;
        this.log.warn({ err: (e as Error).message }, 'action poll failed');
      }
      if (!this.stopped) this.timer = setTimeout(() => void tick(), this.config.pollIntervalMs);
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async call(path: string, payload: unknown): Promise<unknown> {
    const { url, till, secret, timeoutMs } = this.config.bridge;
    const body = JSON.stringify(payload);
    const nonce = newNonce();
    const res = await fetch(url + path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signedHeaders(secret, till, 'POST', path, body, this.now(), nonce),
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`bridge answered ${res.status} to ${path}: ${text.slice(0, 200)}`);
    // An answer not signed for this request's nonce is forged or replayed: nothing in it is used.
    if (!sameSignature(res.headers.get(HEADER_SIGNATURE) ?? undefined, signResponse(secret, nonce, text)))
      throw new Error(`the bridge's answer to ${path} is not signed for this request: ignored`);
    return JSON.parse(text) as unknown;
  }

  /** One poll: fetch the pending actions, run each allowed one, report every outcome. */
  async pollOnce(): Promise<{ id: number; report: ActionReport }[]> {
    if (this.killed()) return [];
    const parsed = pollAnswer.safeParse(await this.call('/till/v1/actions/poll', {}));
    if (!parsed.success)
      throw new Error(`the bridge's answer is not a list of actions: ${parsed.error.message}`);
    if (parsed.data.killed) return [];
    const out: { id: number; report: ActionReport }[] = [];
    for (const a of parsed.data.actions) {
      if (this.done.has(a.id)) continue;
      // The kill switch is read again before each action: flipping it stops the rest of a batch.
      if (this.killed()) break;
      this.done.add(a.id);
      const report = await this.handle(a);
      this.counts[report.result]++;
      this.log[report.result === 'succeeded' || report.result === 'dry_run' ? 'info' : 'warn'](
        {
          action_id: a.id,
          action: a.action,
          result: report.result,
          reason: report.reason,
          exit_code: report.exit_code,
        },
        'remote action',
      );
      await this.call(`/till/v1/actions/${a.id}/result`, report);
      out.push({ id: a.id, report });
    }
    return out;
  }

  /** Decides and runs one action. Every refusal names why; nothing refused ever starts a process. */
  async handle(a: PendingAction): Promise<ActionReport> {
    if (!ACTION_NAME.test(a.action)) return { result: 'refused', reason: 'malformed action name' };
    const allowed = this.config.allow.get(a.action);
    if (!allowed) return { result: 'refused', reason: `action ${a.action} is not on this till's allowlist` };
    if (a.expires_at < this.now())
      return { result: 'refused', reason: 'the action expired before it arrived' };
    const choice = a.choice ?? undefined;
    if (allowed.choices === undefined) {
      if (choice !== undefined) return { result: 'refused', reason: `action ${a.action} takes no choice` };
    } else if (choice === undefined || !allowed.choices.includes(choice)) {
      return { result: 'refused', reason: `choice is not one of the declared values of ${a.action}` };
    }
    const now = this.now();
    const recent = (this.runs.get(a.action) ?? []).filter((t) => now - t < allowed.rateLimit.perMs);
    if (recent.length >= allowed.rateLimit.max)
      return {
        result: 'refused',
        reason: `rate limit: ${a.action} ran ${recent.length} times within its window`,
      };
    recent.push(now);
    this.runs.set(a.action, recent);
    const steps = allowed.steps.map((s) => ({
      ...s,
      argv: s.argv.map((x) => (choice === undefined ? x : x.replaceAll('{choice}', choice))),
    }));
    if (this.config.dryRun)
      return { result: 'dry_run', output: steps.map((s) => JSON.stringify(s.argv)).join('\n') };
    return run(steps, allowed);
  }
}

/** Runs the steps in order with execFile (never a shell), each bounded by the action's timeout. */
export async function run(
  steps: AllowedAction['steps'],
  a: Pick<AllowedAction, 'timeoutMs'>,
): Promise<ActionReport> {
  const started = Date.now();
  let output = '';
  let code: number | null = 0;
  for (const s of steps) {
    const [program, ...args] = s.argv as [string, ...string[]];
    const r = await new Promise<{ code: number | null; text: string; error?: string }>((done) => {
      execFile(
        program,
        args,
        {
          shell: false,
          timeout: a.timeoutMs,
          killSignal: 'SIGKILL',
          windowsHide: true,
          maxBuffer: 1 << 20,
          encoding: 'utf8',
        },
        (err, stdout, stderr) => {
          const text = `${stdout}${stderr}`;
          if (!err) return done({ code: 0, text });
          const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
          if (e.killed) return done({ code: null, text, error: `timed out after ${a.timeoutMs} ms` });
          if (typeof e.code === 'number') return done({ code: e.code, text });
          done({ code: null, text, error: `cannot start ${program}: ${String(e.code ?? e.message)}` });
        },
      );
    });
    output += r.text;
    code = r.code;
    if ((r.error || r.code !== 0) && !s.mayFail) {
      return {
        result: 'failed',
        exit_code: r.code,
        ...(r.error ? { reason: r.error } : { reason: `exit code ${r.code}` }),
        output: output.slice(-MAX_OUTPUT),
        duration_ms: Date.now() - started,
      };
    }
  }
  return {
    result: 'succeeded',
    exit_code: code,
    output: output.slice(-MAX_OUTPUT),
    duration_ms: Date.now() - started,
  };
}
