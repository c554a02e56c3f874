// `tillwatch backtest`: argument handling; the work is in backtest.ts.
import { UsageError, formatDuration, parseCli } from '@tillwatch/config';
import { backtest } from './backtest.js';
import type { BacktestProgress } from './backtest.js';
import { parseDuration, parseTime } from './duration.js';
import { fetchIncidents } from './incidents.js';
import { loadInhibitConfig } from './inhibit.js';
import { DEFAULT_TIMEOUT_MS, deadline, historyPlaces } from './prometheus.js';
import type { RequestOptions } from './prometheus.js';
import { loadRules } from './rules.js';
import { BRIDGE_TOKEN_HELP, BRIDGE_TOKEN_OPTIONS, BRIDGE_TOKEN_USAGE, bridgeToken } from '../bridge-token.js';
import { fetchFailure } from '../fetch-failure.js';
import { shippedAlertmanagerConfig } from '../locate.js';
import { compareReports, formatCompare, formatReport } from './format.js';
import type { Format } from './format.js';

export const BACKTEST_USAGE = `usage:
  tillwatch backtest --rules FILE_OR_DIR... --prometheus URL --from TIME --to TIME [--step 15s]
      [--bridge URL ${BRIDGE_TOKEN_USAGE}] [--match-window 62d] [--flap-count 3] [--flap-window 1h]
      [--tills N] [--alertmanager-config FILE|none] [--group-intervals]
      [--format table|json|csv] [--compare OLD_FILE_OR_DIR...] [--timeout 2m] [--progress|--no-progress]
  TIME: RFC 3339, Unix seconds, now or now-DURATION (now-30d)
  --timeout: how long one request to Prometheus or the bridge may take before the run fails (default 2m)
${BRIDGE_TOKEN_HELP}
  --progress: a line on stderr per 10% of the range queries (default: when stderr is a terminal and
      the run takes over 2s)`;

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Whether `err` is a terminal: progress is then shown without --progress. */
  errIsTTY?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** 0.4s, 12.5s, then 1m30s, 2h5m: config's formatDuration rounds to whole seconds. */
const took = (ms: number): string => (ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : formatDuration(ms));

/** A run shorter than this shows no progress unless --progress asks for it. */
const QUIET_MS = 2_000;

/**
 * Progress lines on stderr, one per 10% of the range queries answered (or per query when fewer than ten):
 *   backtest: 40% (16/40 queries, 3/12 rules), 12s elapsed, about 18s left
 * `forced` prints from the start; otherwise a line is printed only once the run has taken QUIET_MS.
 */
export function progressPrinter(
  io: Io,
  label: string,
  forced: boolean,
  now: () => number = Date.now,
): (p: BacktestProgress) => void {
  const started = now();
  let shown = 0;
  return (p) => {
    if (p.queries === 0) return;
    const tenth = Math.floor((p.done / p.queries) * 10);
    if (tenth <= shown && p.queries >= 10) return;
    const elapsed = now() - started;
    if (!forced && elapsed < QUIET_MS) return;
    shown = tenth;
    const left = p.done > 0 && p.done < p.queries ? (elapsed * (p.queries - p.done)) / p.done : undefined;
    io.err(
      `${label}: ${Math.floor((p.done / p.queries) * 100)}% (${p.done}/${p.queries} queries, ${p.rulesDone}/${p.rules} rules), ` +
        `${took(elapsed)} elapsed${left === undefined ? '' : `, about ${took(left)} left`}`,
    );
  };
}

/** A usage error of a command; main() prints it with that command's usage and exits 2. */
export class CommandUsageError extends UsageError {}

export function durationOption(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0)
    throw new CommandUsageError(`--${name}: expected a duration like 15s or 1h, got "${v}"`);
  return ms;
}

export function formatOption(v: string | undefined): Format {
  const f = v ?? 'table';
  if (f !== 'table' && f !== 'json' && f !== 'csv')
    throw new CommandUsageError(`--format: expected table, json or csv, got "${f}"`);
  return f;
}

/** One clear error for a wrong URL, instead of the same failure on every alert row. */
export async function checkPrometheus(url: string, o: RequestOptions = {}): Promise<void> {
  const { signal, timedOut } = deadline(url, 'GET /api/v1/query?query=vector(1)', o);
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/$/, '')}/api/v1/query?query=vector(1)`, { signal });
  } catch (err) {
    throw timedOut(err) ?? new Error(`--prometheus ${url}: cannot connect: ${fetchFailure(err)}`);
  }
  const json = (await res.json().catch((err: unknown) => {
    const t = timedOut(err);
    if (t) throw t;
    return undefined;
  })) as { status?: string } | undefined;
  if (json?.status !== 'success')
    throw new Error(
      `--prometheus ${url}: not a Prometheus query API (HTTP ${res.status} from /api/v1/query)`,
    );
}

export async function backtestCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseCli(args, {
    rules: { type: 'string', multiple: true },
    compare: { type: 'string', multiple: true },
    prometheus: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    step: { type: 'string' },
    bridge: { type: 'string' },
    ...BRIDGE_TOKEN_OPTIONS,
    'match-window': { type: 'string' },
    'flap-count': { type: 'string' },
    'flap-window': { type: 'string' },
    tills: { type: 'string' },
    'alertmanager-config': { type: 'string' },
    'group-intervals': { type: 'boolean' },
    format: { type: 'string' },
    timeout: { type: 'string' },
    progress: { type: 'boolean' },
    'no-progress': { type: 'boolean' },
  });
  const need = (v: string | undefined, flag: string): string => {
    if (!v) throw new CommandUsageError(`backtest: ${flag} is required`);
    return v;
  };
  const time = (flag: string, v: string | undefined): number => {
    const t = parseTime(need(v, `--${flag}`));
    if (t === undefined)
      throw new CommandUsageError(`--${flag}: "${v}" is not a time (RFC 3339, Unix seconds or now-30d)`);
    return t;
  };
  if (!values.rules?.length) throw new CommandUsageError('backtest: --rules is required');
  const format = formatOption(values.format);
  if (values.progress && values['no-progress'])
    throw new CommandUsageError('backtest: --progress and --no-progress contradict each other');
  const timeoutMs = durationOption('timeout', values.timeout, DEFAULT_TIMEOUT_MS);
  const stepMs = durationOption('step', values.step, 15_000);
  const fromMs = Math.floor(time('from', values.from) / stepMs) * stepMs;
  const toMs = time('to', values.to);
  if (toMs <= fromMs) throw new CommandUsageError('backtest: --to must be after --from');
  const flapCount = values['flap-count'] === undefined ? 3 : Number(values['flap-count']);
  if (!Number.isInteger(flapCount) || flapCount < 2)
    throw new CommandUsageError(`--flap-count: expected a whole number >= 2, got "${values['flap-count']}"`);
  const tills = values.tills === undefined ? undefined : Number(values.tills);
  if (tills !== undefined && !(Number.isInteger(tills) && tills > 0))
    throw new CommandUsageError(`--tills: expected a positive whole number, got "${values.tills}"`);
  const rules = loadRules(values.rules, { defaultIntervalMs: stepMs });
  const oldRules = values.compare?.length
    ? loadRules(values.compare, { defaultIntervalMs: stepMs })
    : undefined;
  // Inhibition is Alertmanager's: by default the rules of the stack this CLI ships with.
  const amConfig =
    values['alertmanager-config'] === 'none'
      ? undefined
      : (values['alertmanager-config'] ?? shippedAlertmanagerConfig());
  const inhibit = amConfig ? loadInhibitConfig(amConfig) : undefined;
  const prometheus = need(values.prometheus, '--prometheus');
  // Read (and a bad token file refused) before the first request.
  const token = bridgeToken(values, BACKTEST_USAGE, io.env);
  await checkPrometheus(prometheus, { timeoutMs });
  let incidents;
  if (values.bridge) {
    const r = await fetchIncidents(values.bridge, token, {
      fromMs,
      toMs,
      places: historyPlaces(prometheus, fromMs, toMs, { timeoutMs }),
      timeoutMs,
    });
    for (const w of r.warnings) io.err(`warning: ${w}`);
    incidents = r.incidents;
  }
  const opts = {
    prometheus,
    fromMs,
    toMs,
    stepMs,
    groupIntervals: values['group-intervals'] ?? false,
    ...(inhibit ? { inhibit } : {}),
    ...(incidents ? { incidents } : {}),
    matchWindowMs: durationOption('match-window', values['match-window'], 62 * 86_400_000),
    flapCount,
    flapWindowMs: durationOption('flap-window', values['flap-window'], 3_600_000),
    ...(tills ? { tills } : {}),
    timeoutMs,
  };
  const showProgress = values['no-progress'] ? false : (values.progress ?? io.errIsTTY ?? false);
  const progress = (label: string) =>
    showProgress ? { onProgress: progressPrinter(io, label, values.progress === true) } : {};
  const report = await backtest(rules, {
    ...opts,
    ...progress(oldRules ? 'backtest (new rules)' : 'backtest'),
  });
  if (oldRules) {
    const before = await backtest(oldRules, { ...opts, ...progress('backtest (old rules)') });
    io.out(formatCompare(compareReports(before, report), format));
  } else io.out(formatReport(report, format));
  return report.alerts.some((a) => a.error) ? 1 : 0;
}
