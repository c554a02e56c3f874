// Fleet-wide expressions shared by several dashboards. Where rules/*.yml records the same
// question, the recorded name is used instead (cheaper at 100,000 tills); see dashboards/README.md.
import { F } from './builder.js';

const BY_TILL = 'chain, region, store, till';

/**
 * One series (value 1) per till that cannot sell right now: the fiscal registrar is absent or not
 * answering, its shift is over 24 h, it has no paper, or its FN has expired (docs: shared domain facts).
 */
export const cannotSellByTill = `count by (${BY_TILL}) (
    (till_device_up{kind="fiscal", ${F}} == 0)
  or (till_fiscal_shift_expired{${F}} == 1)
  or (till_fiscal_paper_present{${F}} == 0)
  or (till_fiscal_fn_expiry_timestamp_seconds{${F}} < time())
)`;

/** Tills with some configured device down that can still sell. */
export const degradedByTill = `count by (${BY_TILL}) (till_device_up{${F}} == 0) unless on (${BY_TILL}) ${cannotSellByTill}`;

export const exporterDown = `up{till!="", ${F}} == 0`;

export const tillStates: Array<{ legend: string; expr: string }> = [
  { legend: 'cannot sell', expr: `count(${cannotSellByTill}) or vector(0)` },
  { legend: 'degraded', expr: `count(${degradedByTill}) or vector(0)` },
  { legend: 'exporter down', expr: `count(${exporterDown}) or vector(0)` },
  {
    legend: 'ok',
    expr: `count(up{till!="", ${F}} == 1 unless on (${BY_TILL}) (${cannotSellByTill} or ${degradedByTill})) or vector(0)`,
  },
];

export const daysLeft = (metric: string, extra = ''): string => `(${metric}{${F}${extra}} - time()) / 86400`;
export const ageSeconds = (metric: string, extra = ''): string => `time() - ${metric}{${F}${extra}}`;
