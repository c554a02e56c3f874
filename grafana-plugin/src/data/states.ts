/**
 * Health states, ordered so that a larger number is worse: a parent takes the maximum of its children.
 * `unknown` (no data, stale, unparseable value) ranks above `warning` on purpose: a till we cannot see
 * may be unable to sell, so it must never look healthier than a till with a known, minor problem.
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
  unknown: 'Unknown / stale',
  critical: 'Critical',
};

export function isStateName(s: string): s is StateName {
  return Object.prototype.hasOwnProperty.call(State, s);
}

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

export interface HealthRules {
  /** Exact value -> state, checked first (Grafana's value mappings). */
  mappings: Map<number, StateCode>;
  /** Ascending thresholds: the state of the greatest threshold <= value (Grafana's threshold steps). */
  thresholds: Array<{ value: number; state: StateCode }>;
}

/**
 * Parses the `healthRules` option: `0=critical, 1=ok` (value mappings) and `base:critical, 0.5:warning, 1:ok`
 * (threshold steps; `base` is minus infinity). Throws an Error naming the bad item.
 */
export function parseHealthRules(text: string): HealthRules {
  const rules: HealthRules = { mappings: new Map(), thresholds: [] };
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') {
      continue;
    }
    const m = /^([^=:]+)\s*([=:])\s*([a-z]+)$/.exec(item);
    if (!m) {
      throw new Error(`health rules: "${item}" is not "<value>=<state>" or "<threshold>:<state>"`);
    }
    const [, rawValue = '', op, stateName = ''] = m;
    if (!isStateName(stateName)) {
      throw new Error(`health rules: "${item}": unknown state "${stateName}" (use ${STATE_NAMES.join(', ')})`);
    }
    const key = rawValue.trim();
    const value = key === 'base' || key === '-Inf' ? -Infinity : Number(key);
    if (Number.isNaN(value) || key === '') {
      throw new Error(`health rules: "${item}": "${key}" is not a number`);
    }
    if (op === '=') {
      rules.mappings.set(value, State[stateName]);
    } else {
      rules.thresholds.push({ value, state: State[stateName] });
    }
  }
  rules.thresholds.sort((a, b) => a.value - b.value);
  return rules;
}

/** Missing or non-numeric values are unknown, never healthy; a value no rule covers is unknown too. */
export function valueToState(value: number, rules: HealthRules): StateCode {
  if (Number.isNaN(value)) {
    return State.unknown;
  }
  const mapped = rules.mappings.get(value);
  if (mapped !== undefined) {
    return mapped;
  }
  let state: StateCode = State.unknown;
  for (const t of rules.thresholds) {
    if (value >= t.value) {
      state = t.state;
    } else {
      break;
    }
  }
  return state;
}
