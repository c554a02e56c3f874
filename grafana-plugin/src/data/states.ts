/**
 * Health states, ordered so that a larger number is worse: a parent takes the maximum of its children.
 * `unknown` (no data, not explained by a firing alert) ranks above `warning` on purpose: a till we cannot
 * see may be unable to sell, so it must never look healthier than a till with a known, minor problem.
 */
export const State = { ok: 0, info: 1, warning: 2, unknown: 3, critical: 4 } as const;
export type StateName = keyof typeof State;
export type StateCode = (typeof State)[StateName];

export const STATE_COUNT = 5;
/** Names by code, worst last. */
export const STATE_NAMES: readonly StateName[] = ['ok', 'info', 'warning', 'unknown', 'critical'];
export const STATE_LABELS: Record<StateName, string> = {
  ok: 'OK',
  info: 'Info',
  warning: 'Warning',
  unknown: 'No data',
  critical: 'Critical',
};

/**
 * Alert severity to state. The vocabulary is kubernetes-mixin's (critical, warning, info). A firing alert
 * without a known severity counts as a warning: it is firing, so it must not be hidden as mere context.
 */
export function severityToState(severity: string | undefined): StateCode {
  switch (severity) {
    case 'critical':
      return State.critical;
    case 'info':
      return State.info;
    default:
      return State.warning;
  }
}
