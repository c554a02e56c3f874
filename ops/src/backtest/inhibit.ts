// Alertmanager's inhibition, replayed over backtested firings: an alert muted by an inhibit rule never
// reaches anyone, so it is neither a notification nor a false alarm. The rules are read from the
// Alertmanager config the stack runs (deploy/alertmanager.yml).
import { ConfigError, durationProblem, loadYamlFile, parseDuration } from '@tillwatch/config';
import type { Episode } from './simulate.js';

export interface Matcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface InhibitRule {
  source: Matcher[];
  target: Matcher[];
  equal: string[];
}

export interface InhibitConfig {
  /** The Alertmanager config file the rules came from. */
  file?: string;
  rules: InhibitRule[];
  /**
   * The root route's group_wait: Alertmanager holds a new group's first notification this long, so a
   * target that fires a moment before its inhibiting alert is muted before anyone hears of it.
   */
  groupWaitMs: number;
  /**
   * Whether an alert with these labels reaches a person: false when the route tree sends it only to
   * receivers without any integration (the shipped `wall` receiver of `severity="info"`: on the wall and the
   * dashboards, no ticket, no message). Absent: everything is notified.
   */
  notifies?: (labels: Record<string, string>) => boolean;
}

interface Route {
  receiver: string;
  matchers: Matcher[];
  continue: boolean;
  routes: Route[];
}

/**
 * The routes an alert takes (Alertmanager's dispatch Route.Match): a route that matches descends into its
 * children in order, stops at the first that matched unless that one has `continue: true`, and is itself
 * the destination when no child matched.
 */
function routesOf(r: Route, labels: Record<string, string>): Route[] {
  if (!matchesAll(r.matchers, labels)) return [];
  const out: Route[] = [];
  for (const child of r.routes) {
    const got = routesOf(child, labels);
    out.push(...got);
    if (got.length > 0 && !child.continue) break;
  }
  return out.length > 0 ? out : [r];
}

const MATCHER = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

/**
 * One matcher of Alertmanager's `source_matchers` / `target_matchers` list (`name="value"`, `=~`, `!=`,
 * `!~`; the value quoted with Go escapes or bare). Written here because no JavaScript library parses
 * Alertmanager matchers; the grammar is the one of Alertmanager 0.25's pkg/labels.ParseMatcher.
 */
export function parseMatcher(text: string): Matcher {
  const m = MATCHER.exec(text);
  if (!m) throw new Error(`"${text}" is not a matcher (name="value", =~, != or !~)`);
  let value = m[3]!;
  if (value.startsWith('"')) {
    if (!value.endsWith('"') || value.length < 2) throw new Error(`"${text}": unterminated quoted value`);
    try {
      value = JSON.parse(value) as string;
    } catch {
      throw new Error(`"${text}": invalid escape in the quoted value`);
    }
  }
  if (m[2] === '=~' || m[2] === '!~') {
    try {
      new RegExp(value);
    } catch (err) {
      throw new Error(`"${text}": invalid regular expression: ${(err as Error).message}`);
    }
  }
  return { name: m[1]!, op: m[2] as Matcher['op'], value };
}

const regexCache = new Map<string, RegExp>();
/** Alertmanager anchors regular expressions at both ends. */
const anchored = (re: string): RegExp => {
  let r = regexCache.get(re);
  if (!r) regexCache.set(re, (r = new RegExp(`^(?:${re})$`)));
  return r;
};

export function matchesAll(matchers: Matcher[], labels: Record<string, string>): boolean {
  return matchers.every((m) => {
    const v = labels[m.name] ?? '';
    switch (m.op) {
      case '=':
        return v === m.value;
      case '!=':
        return v !== m.value;
      case '=~':
        return anchored(m.value).test(v);
      case '!~':
        return !anchored(m.value).test(v);
    }
  });
}

/**
 * The matchers of one inhibit rule side or one route, at `at` in the file: the `list` of matcher strings and
 * the deprecated `eq` / `re` maps of label to value (still accepted by Alertmanager 0.25), all ANDed.
 */
function matchersOf(
  raw: Record<string, unknown>,
  at: string,
  list: string,
  eq: string,
  re: string,
  fail: (key: string, message: string) => Error,
): Matcher[] {
  const out: Matcher[] = [];
  const texts = raw[list];
  if (texts !== undefined) {
    if (!Array.isArray(texts)) throw fail(`${at}.${list}`, 'expected a list');
    texts.forEach((text, j) => {
      try {
        out.push(parseMatcher(String(text)));
      } catch (err) {
        throw fail(`${at}.${list}[${j}]`, (err as Error).message);
      }
    });
  }
  for (const [key, op] of [
    [eq, '='],
    [re, '=~'],
  ] as const) {
    const map = raw[key];
    if (map === undefined) continue;
    if (typeof map !== 'object' || map === null || Array.isArray(map))
      throw fail(`${at}.${key}`, 'expected a map of label to value');
    for (const [name, value] of Object.entries(map)) out.push({ name, op, value: String(value) });
  }
  return out;
}

/** The inhibit rules and root group_wait of an Alertmanager config file; errors name the file and key. */
export function loadInhibitConfig(file: string): InhibitConfig {
  const doc = loadYamlFile(file) as {
    inhibit_rules?: unknown;
    route?: { group_wait?: unknown };
  } | null;
  const fail = (key: string, message: string) => new ConfigError(file, { key, message });
  const raw = doc?.inhibit_rules ?? [];
  if (!Array.isArray(raw)) throw fail('inhibit_rules', 'expected a list');
  const rules = raw.map((r: Record<string, unknown>, i): InhibitRule => {
    const side = (kind: 'source' | 'target'): Matcher[] =>
      matchersOf(r, `inhibit_rules[${i}]`, `${kind}_matchers`, `${kind}_match`, `${kind}_match_re`, fail);
    const equal = r.equal ?? [];
    if (!Array.isArray(equal)) throw fail(`inhibit_rules[${i}].equal`, 'expected a list of label names');
    return { source: side('source'), target: side('target'), equal: equal.map(String) };
  });
  const wait = doc?.route?.group_wait;
  if (wait !== undefined && durationProblem(wait) !== undefined)
    throw fail('route.group_wait', durationProblem(wait)!);
  const groupWaitMs = wait === undefined ? 30_000 : parseDuration(String(wait))!;
  if (doc?.route === undefined) return { file, rules, groupWaitMs };

  // Receivers with no integration (no `*_configs` list with an entry) notify nobody.
  const receivers = (doc as { receivers?: unknown }).receivers ?? [];
  if (!Array.isArray(receivers)) throw fail('receivers', 'expected a list');
  const silent = new Set<string>();
  receivers.forEach((r: Record<string, unknown>, i) => {
    if (typeof r?.name !== 'string') throw fail(`receivers[${i}].name`, 'expected a name');
    const configs = Object.entries(r).filter(
      ([k, v]) => k.endsWith('_configs') && Array.isArray(v) && v.length > 0,
    );
    if (configs.length === 0) silent.add(r.name);
  });
  const route = (raw: Record<string, unknown>, at: string, parentReceiver: string): Route => {
    const receiver = raw.receiver === undefined ? parentReceiver : String(raw.receiver);
    const matchers = matchersOf(raw, at, 'matchers', 'match', 'match_re', fail);
    const children = raw.routes ?? [];
    if (!Array.isArray(children)) throw fail(`${at}.routes`, 'expected a list');
    return {
      receiver,
      matchers,
      continue: raw.continue === true,
      routes: children.map((c: Record<string, unknown>, j) => route(c, `${at}.routes[${j}]`, receiver)),
    };
  };
  const root = route(doc.route as Record<string, unknown>, 'route', '');
  const notifies = (labels: Record<string, string>) =>
    routesOf(root, labels).some((r) => !silent.has(r.receiver));
  return { file, rules, groupWaitMs, notifies };
}

/**
 * Alertmanager's rule for a snapshot of active alerts (inhibit.go, Mutes): a target is muted when a rule's
 * target side matches it and an active alert matches the source side with the same `equal` labels (absent
 * on both counts as equal); an alert that matches both sides cannot be muted by one that does too.
 */
export function isInhibited(
  target: Record<string, string>,
  active: Record<string, string>[],
  rules: InhibitRule[],
): boolean {
  return rules.some((r) => {
    if (!matchesAll(r.target, target)) return false;
    const twoSided = matchesAll(r.source, target);
    return active.some(
      (s) =>
        s !== target &&
        matchesAll(r.source, s) &&
        r.equal.every((n) => (s[n] ?? '') === (target[n] ?? '')) &&
        !(twoSided && matchesAll(r.target, s)),
    );
  });
}

/**
 * The firings that Alertmanager would have muted: those covered by inhibiting firings (same rule logic as
 * isInhibited) except for stretches no longer than `graceMs` (the group_wait that delays a first
 * notification). A firing that outlives its inhibitor by more than that is notified and counts.
 */
export function inhibitedEpisodes(episodes: Episode[], rules: InhibitRule[], graceMs: number): Set<Episode> {
  const muted = new Set<Episode>();
  if (rules.length === 0) return muted;
  // Per rule, the source firings by their `equal` labels, so each target looks up only its peers.
  const sources = rules.map((r) => {
    const byKey = new Map<string, Episode[]>();
    for (const e of episodes)
      if (matchesAll(r.source, e.labels)) {
        const k = JSON.stringify(r.equal.map((n) => e.labels[n] ?? ''));
        const list = byKey.get(k);
        if (list) list.push(e);
        else byKey.set(k, [e]);
      }
    return byKey;
  });
  for (const t of episodes) {
    const cover: Array<[number, number]> = [];
    rules.forEach((r, i) => {
      if (!matchesAll(r.target, t.labels)) return;
      const twoSided = matchesAll(r.source, t.labels);
      const peers = sources[i]!.get(JSON.stringify(r.equal.map((n) => t.labels[n] ?? ''))) ?? [];
      for (const s of peers)
        if (s !== t && !(twoSided && matchesAll(r.target, s.labels)) && s.start < t.end && s.end > t.start)
          cover.push([s.start, s.end]);
    });
    if (cover.length === 0) continue;
    cover.sort((a, b) => a[0] - b[0]);
    // The longest stretch of t's firing that no inhibitor covers.
    let at = t.start;
    let longest = 0;
    for (const [s, e] of cover) {
      if (s > at) longest = Math.max(longest, Math.min(s, t.end) - at);
      at = Math.max(at, e);
      if (at >= t.end) break;
    }
    if (at < t.end) longest = Math.max(longest, t.end - at);
    if (longest <= graceMs) muted.add(t);
  }
  return muted;
}
