// `tillwatch forecast`: argument handling; the work is in forecast.ts.
import { parseCli, parseDuration } from '@tillwatch/config';
import { parseTime } from '../backtest/duration.js';
import { CommandUsageError, checkPrometheus, durationOption, formatOption } from '../backtest/command.js';
import { fetchIncidents } from '../backtest/incidents.js';
import { engineFlags, historyPlaces } from '../backtest/prometheus.js';
import { BRIDGE_TOKEN_HELP, BRIDGE_TOKEN_OPTIONS, BRIDGE_TOKEN_USAGE, bridgeToken } from '../bridge-token.js';
import { knowledgeBaseDir } from '../locate.js';
import {
  DEFAULT_HISTORY_MS,
  DEFAULT_REOPEN_WINDOW_MS,
  DEFAULT_RESOLUTION_MS,
  forecast,
  loadExpectedMinutes,
} from './forecast.js';
import { formatForecast } from './format.js';
import type { Section } from './format.js';

export const FORECAST_USAGE = `usage:
  tillwatch forecast --prometheus URL [--at now] [--weeks 13] [--fn-window 30d] [--cert-window 30d]
      [--history 90d] [--bridge URL ${BRIDGE_TOKEN_USAGE}] [--knowledge-base DIR]
      [--reopen-window 1h] [--resolution 1m] [--section fn|certs|failures] [--format table|json|csv]
${BRIDGE_TOKEN_HELP}`;

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export async function forecastCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseCli(args, {
    prometheus: { type: 'string' },
    at: { type: 'string' },
    weeks: { type: 'string' },
    'fn-window': { type: 'string' },
    'cert-window': { type: 'string' },
    history: { type: 'string' },
    bridge: { type: 'string' },
    ...BRIDGE_TOKEN_OPTIONS,
    'knowledge-base': { type: 'string' },
    'reopen-window': { type: 'string' },
    resolution: { type: 'string' },
    section: { type: 'string' },
    format: { type: 'string' },
  });
  if (!values.prometheus) throw new CommandUsageError('forecast: --prometheus is required');
  const token = bridgeToken(values, FORECAST_USAGE, io.env);
  const format = formatOption(values.format);
  const section = values.section as Section | undefined;
  if (section !== undefined && !['fn', 'certs', 'failures'].includes(section))
    throw new CommandUsageError(`--section: expected fn, certs or failures, got "${section}"`);
  if (format === 'csv' && !section)
    throw new CommandUsageError(
      '--format csv: give --section fn, certs or failures (one table per CSV file)',
    );
  const atMs = parseTime(values.at ?? 'now');
  if (atMs === undefined)
    throw new CommandUsageError(`--at: "${values.at}" is not a time (RFC 3339, Unix seconds or now-30d)`);
  const weeks = values.weeks === undefined ? 13 : Number(values.weeks);
  if (!Number.isInteger(weeks) || weeks < 1 || weeks > 104)
    throw new CommandUsageError(`--weeks: expected a whole number 1..104, got "${values.weeks}"`);
  const reopenWindowMs = durationOption('reopen-window', values['reopen-window'], DEFAULT_REOPEN_WINDOW_MS);
  const resolutionMs = durationOption('resolution', values.resolution, DEFAULT_RESOLUTION_MS);
  if (resolutionMs > reopenWindowMs)
    throw new CommandUsageError(
      `--resolution ${values.resolution}: must not exceed --reopen-window, or separate incidents would merge`,
    );
  const failures = section === undefined || section === 'failures';
  // Engineer hours need the cards' expected_minutes: a forecast without them fails here, not with "0.0".
  const expectedMinutes = failures
    ? loadExpectedMinutes(knowledgeBaseDir(values['knowledge-base']))
    : undefined;
  await checkPrometheus(values.prometheus);
  // The default history follows what Prometheus keeps, up to 90 days.
  const retention = (await engineFlags(values.prometheus))?.['storage.tsdb.retention.time'];
  const retentionMs = retention ? parseDuration(retention) : undefined;
  const historyMs = durationOption(
    'history',
    values.history,
    retentionMs ? Math.min(retentionMs, DEFAULT_HISTORY_MS) : DEFAULT_HISTORY_MS,
  );
  let incidents;
  if (values.bridge && failures) {
    const r = await fetchIncidents(values.bridge, token, {
      fromMs: atMs - historyMs,
      toMs: atMs,
      places: historyPlaces(values.prometheus, atMs - historyMs, atMs),
    });
    for (const w of r.warnings) io.err(`warning: ${w}`);
    incidents = r.incidents;
  }
  const f = await forecast({
    prometheus: values.prometheus,
    atMs,
    weeks,
    fnWindowMs: durationOption('fn-window', values['fn-window'], 30 * 86_400_000),
    certWindowMs: durationOption('cert-window', values['cert-window'], 30 * 86_400_000),
    historyMs,
    reopenWindowMs,
    resolutionMs,
    failures,
    ...(retentionMs ? { retentionMs } : {}),
    ...(incidents ? { incidents } : {}),
    ...(expectedMinutes ? { expectedMinutes } : {}),
  });
  if (failures) for (const w of f.warnings) io.err(`warning: ${w}`);
  io.out(formatForecast(f, format, section));
  return 0;
}
