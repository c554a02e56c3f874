// `tillwatch forecast`: argument handling; the work is in forecast.ts.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseTime } from '../backtest/duration.js';
import { CommandUsageError, checkPrometheus, durationOption, formatOption } from '../backtest/command.js';
import { fetchIncidents } from '../backtest/incidents.js';
import { forecast, loadExpectedMinutes } from './forecast.js';
import { formatForecast } from './format.js';
import type { Section } from './format.js';

export const FORECAST_USAGE = `usage:
  tillwatch forecast --prometheus URL [--at now] [--weeks 13] [--fn-window 30d] [--cert-window 30d]
      [--history 90d] [--bridge URL [--bridge-token TOKEN]] [--knowledge-base alert-bridge/knowledge-base]
      [--section fn|certs|failures] [--format table|json|csv]`;

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function forecastCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      prometheus: { type: 'string' },
      at: { type: 'string' },
      weeks: { type: 'string' },
      'fn-window': { type: 'string' },
      'cert-window': { type: 'string' },
      history: { type: 'string' },
      bridge: { type: 'string' },
      'bridge-token': { type: 'string' },
      'knowledge-base': { type: 'string' },
      section: { type: 'string' },
      format: { type: 'string' },
    },
  });
  if (!values.prometheus) throw new CommandUsageError('forecast: --prometheus is required');
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
  const historyMs = durationOption('history', values.history, 90 * 86_400_000);
  const kbDir = values['knowledge-base'] ?? 'alert-bridge/knowledge-base';
  // The default directory exists in a checkout; elsewhere hours are left empty rather than failing.
  const expectedMinutes =
    values['knowledge-base'] !== undefined || existsSync(kbDir) ? loadExpectedMinutes(kbDir) : undefined;
  await checkPrometheus(values.prometheus);
  const incidents = values.bridge
    ? await fetchIncidents(values.bridge, values['bridge-token'], atMs - historyMs, atMs)
    : undefined;
  const f = await forecast({
    prometheus: values.prometheus,
    atMs,
    weeks,
    fnWindowMs: durationOption('fn-window', values['fn-window'], 30 * 86_400_000),
    certWindowMs: durationOption('cert-window', values['cert-window'], 30 * 86_400_000),
    historyMs,
    ...(incidents ? { incidents } : {}),
    ...(expectedMinutes ? { expectedMinutes } : {}),
  });
  io.out(formatForecast(f, format, section));
  return 0;
}
