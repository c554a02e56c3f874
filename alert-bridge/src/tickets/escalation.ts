import type { Config } from '../config.js';
import type { Target } from '../delivery/target.js';
import { bump, type TicketChange } from './lifecycle.js';
import type { Ticket } from './model.js';

export type EscalationPolicy = Config['escalation']['policies'][number];
export type EscalationLevel = EscalationPolicy['levels'][number];

/** The first escalation policy for the ticket's team and priority (absent keys match any). */
export function escalationPolicyOf(
  policies: readonly EscalationPolicy[],
  team: string,
  priority: string,
): EscalationPolicy | undefined {
  return policies.find(
    (p) =>
      (p.team === undefined || p.team === team) &&
      (!p.priority || (p.priority as readonly string[]).includes(priority)),
  );
}

type Clock = Pick<Ticket, 'opened_at' | 'escalation_step' | 'escalated_at' | 'escalation_base'>;

/** When the next escalation step of an unacknowledged ticket is due under the policy. */
export function nextEscalationAt(t: Clock, p: EscalationPolicy): number {
  if (t.escalation_step === 0 || t.escalated_at === null)
    return (t.escalation_base ?? t.opened_at) + p.levels[0]!.after;
  return t.escalated_at + p.repeat;
}

/**
 * The escalation step due now for an open ticket nobody acknowledged, or undefined. A step notifies every
 * level reached so far (unacknowledged for at least the level's `after`): the duty lead is reminded
 * every `repeat`, and the manager joins once the ticket has waited for the manager's `after`.
 */
export function escalate(
  t: Ticket,
  p: EscalationPolicy,
  targetsOf: (l: EscalationLevel) => Target[],
  now: number,
): TicketChange | undefined {
  if (t.status !== 'open' || t.acknowledged_at !== null || t.waiting_since !== null) return undefined;
  if (now < nextEscalationAt(t, p)) return undefined;
  const waited = now - (t.escalation_base ?? t.opened_at);
  const levels = p.levels.filter((l) => waited >= l.after);
  const step = t.escalation_step + 1;
  return {
    id: t.id,
    set: bump(t, { escalation_step: step, escalated_at: now }, now),
    events: [
      {
        kind: 'escalated',
        actor: 'bridge',
        data: {
          step,
          levels: levels.map((l) => l.name),
          unacknowledged_for_s: Math.round(waited / 1000),
        },
        targets: levels.flatMap(targetsOf),
      },
    ],
  };
}
