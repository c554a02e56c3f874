// `tillwatch report sla`: asks the bridge for a chain's monthly SLA report and writes it as HTML and CSV.
import { join } from 'node:path';
import { parseCli, UsageError } from '@tillwatch/config';
import { writeFileAtomic } from '../write-atomic.js';
import { reportCsv, reportHtml, slaReportSchema, type Locale, type SlaReport } from './render.js';

export const REPORT_USAGE = `usage:
  tillwatch report sla --bridge URL --chain CHAIN --month YYYY-MM --out DIR [--bridge-token TOKEN] [--locale ru|en]`;

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** A mistake on the `report` command line: shown with the report's usage. */
export class ReportUsageError extends UsageError {
  constructor(message: string) {
    super(message, REPORT_USAGE);
  }
}

export async function fetchSlaReport(
  bridge: string,
  token: string | undefined,
  chain: string,
  month: string,
): Promise<SlaReport> {
  const url = `${bridge.replace(/\/$/, '')}/api/v1/reports/sla?${new URLSearchParams({ chain, month })}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (err) {
    throw new Error(`--bridge ${bridge}: cannot connect: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}: ${body?.error?.message ?? res.statusText}`);
  const r = slaReportSchema.safeParse(body);
  if (!r.success) throw new Error(`${url}: the answer is not an SLA report (${r.error.issues[0]?.message})`);
  return r.data;
}

export async function reportCommand(args: string[], io: Io): Promise<number> {
  const [what, ...rest] = args;
  if (what !== 'sla') throw new ReportUsageError(`report: unknown report "${what ?? ''}"`);
  const { values } = parseCli(
    rest,
    {
      bridge: { type: 'string' },
      'bridge-token': { type: 'string' },
      chain: { type: 'string' },
      month: { type: 'string' },
      out: { type: 'string' },
      locale: { type: 'string' },
    },
    { usage: REPORT_USAGE },
  );
  const need = (v: string | undefined, flag: string): string => {
    if (!v) throw new ReportUsageError(`report sla: ${flag} is required`);
    return v;
  };
  const month = need(values.month, '--month');
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month))
    throw new ReportUsageError(`report sla: --month: expected YYYY-MM such as 2026-11, got "${month}"`);
  const locale = (values.locale ?? 'ru') as Locale;
  if (locale !== 'ru' && locale !== 'en')
    throw new ReportUsageError(`report sla: --locale: expected ru or en, got "${values.locale}"`);
  const chain = need(values.chain, '--chain');
  const out = need(values.out, '--out');
  const r = await fetchSlaReport(need(values.bridge, '--bridge'), values['bridge-token'], chain, month);
  const base = join(out, `sla-${chain.replace(/[^A-Za-z0-9_-]/g, '_')}-${month}`);
  writeFileAtomic(`${base}.html`, reportHtml(r, locale));
  writeFileAtomic(`${base}.csv`, reportCsv(r));
  io.out(`wrote ${base}.html and ${base}.csv: ${r.tickets} tickets`);
  return 0;
}
