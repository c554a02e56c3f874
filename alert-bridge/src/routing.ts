import type { Config } from './config.js';
import type { Card } from './knowledge-base.js';

/**
 * Picks the responsible team: the first configured route whose matchers all hold, else the
 * alert's own `team` label (set by the rules), else the card's default team, else routing.default_team.
 */
export function routeTeam(
  labels: Record<string, string>,
  routing: Config['routing'],
  card: Card | undefined,
): string {
  for (const r of routing.routes) {
    const eq = Object.entries(r.match).every(([k, v]) => labels[k] === v);
    const re = Object.entries(r.match_re).every(([k, v]) => new RegExp(`^(?:${v})$`).test(labels[k] ?? ''));
    if (eq && re) return r.team;
  }
  return labels.team || card?.team || routing.default_team;
}

export interface Channel {
  target: string;
  kind: 'telegram' | 'email';
}

export function channelsFor(team: string, config: Config): Channel[] {
  const t = config.teams[team];
  if (!t) return [];
  const out: Channel[] = [];
  if (config.telegram)
    for (const c of t.telegram) out.push({ target: `telegram:${c.chat_id}`, kind: 'telegram' });
  if (config.email) for (const e of t.email) out.push({ target: `email:${e.to.join(',')}`, kind: 'email' });
  return out;
}
