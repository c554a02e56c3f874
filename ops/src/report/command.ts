// `tillwatch report sla`: asks the bridge for a chain's monthly SLA report and writes it as HTML and CSV.
import { join, resolve } from 'node:path';
import { parseCli, UsageError } from '@tillwatch/config';
import { BRIDGE_TOKEN_OPTIONS, BRIDGE_TOKEN_USAGE, bridgeToken } from '../bridge-token.js';
import { fetchFailure } from '../fetch-failure.js';
import { writeFileAtomic } from '../write-atomic.js';
import { reportCsv, reportHtml, slaReportSchema, type Locale, type SlaReport } from './render.js';

/** Where the bridge listens unless told otherwise (its `listen` default). */
export const DEFAULT_BRIDGE_URL = 'http://127.0.0.1:9836';
export const BRIDGE_URL_ENV = 'TILLWATCH_BRIDGE_URL';

export const REPORT_USAGE = `usage:
  tillwatch report sla --chain CHAIN --month YYYY-MM [--bridge URL] [--out DIR]
      ${BRIDGE_TOKEN_USAGE} [--locale ru|en]
  --bridge: the bridge's address (default $${BRIDGE_URL_ENV}, else ${DEFAULT_BRIDGE_URL})
  --out: the folder the HTML and CSV files are written to (default: the current one)
  --bridge-token-file: a file holding an API token allowed to read the chain (else $TILLWATCH_BRIDGE_TOKEN;
      --bridge-token shows the token to every local user in ps)`;

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
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
  /** The address and how it was chosen, for the error when it does not answer. */
  label = `--bridge ${bridge}`,
): Promise<SlaReport> {
  const url = `${bridge.replace(/\/$/, '')}/api/v1/reports/sla?${new URLSearchParams({ chain, month })}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (err) {
    throw new Error(`${label}: cannot connect: ${fetchFailure(err)}`);
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
      ...BRIDGE_TOKEN_OPTIONS,
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
  const env = io.env ?? process.env;
  const token = bridgeToken(values, REPORT_USAGE, env);
  const fromEnv = env[BRIDGE_URL_ENV]?.trim();
  const [bridge, label] = values.bridge
    ? [values.bridge, `--bridge ${values.bridge}`]
    : fromEnv
      ? [fromEnv, `$${BRIDGE_URL_ENV} ${fromEnv}`]
      : [
          DEFAULT_BRIDGE_URL,
          `bridge ${DEFAULT_BRIDGE_URL} (the default: give --bridge or $${BRIDGE_URL_ENV})`,
        ];
  const out = resolve(io.cwd ?? process.cwd(), values.out ?? '.');
  const r = await fetchSlaReport(bridge, token, chain, month, label);
  const base = join(out, `sla-${chain.replace(/[^A-Za-z0-9_-]/g, '_')}-${month}`);
  writeFileAtomic(`${base}.html`, reportHtml(r, locale));
  writeFileAtomic(`${base}.csv`, reportCsv(r));
  io.out(`wrote ${base}.html and ${base}.csv: ${r.tickets} tickets`);
  return 0;
}
