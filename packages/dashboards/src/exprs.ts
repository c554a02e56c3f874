// Fleet-wide expressions shared by several dashboards. Where rules/*.yml records the same
// question, the recorded name is used instead (cheaper at 100,000 tills); see dashboards/README.md.
import { F } from './builder.js';

export { FS } from './builder.js';

export const exporterDown = `up{till!="", ${F}} == 0`;

/**
 * Tills per health state, from the recording rule till:health:state (rules/recording.yml:
 * 0 ok, 1 warning alert firing, 2 critical alert firing, 3 unreachable), so the wall counts
 * exactly what the NOC is alerted about.
 */
export const tillStates: Array<{ legend: string; color: string; expr: string }> = [
  { legend: 'ok', color: 'green', expr: `count(till:health:state{${F}} == 0) or vector(0)` },
  { legend: 'warning', color: 'yellow', expr: `count(till:health:state{${F}} == 1) or vector(0)` },
  { legend: 'critical', color: 'red', expr: `count(till:health:state{${F}} == 2) or vector(0)` },
  { legend: 'unreachable', color: 'purple', expr: `count(till:health:state{${F}} == 3) or vector(0)` },
];

export const daysLeft = (metric: string, extra = ''): string => `(${metric}{${F}${extra}} - time()) / 86400`;
export const ageSeconds = (metric: string, extra = ''): string => `time() - ${metric}{${F}${extra}}`;
