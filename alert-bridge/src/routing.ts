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
  const label = (k: string) => (Object.hasOwn(labels, k) ? labels[k] : undefined);
  for (const r of routing.routes) {
    const eq = Object.entries(r.match).every(([k, v]) => label(k) === v);
    const re = Object.entries(r.match_re).every(([k, v]) => new RegExp(`^(?:${v})$`).test(label(k) ?? ''));
    if (eq && re) return r.team;
  }
  return label('team') || card?.team || routing.default_team;
}
