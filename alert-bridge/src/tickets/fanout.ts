import type { Config } from '../config.js';
import { isChannel, targetId, type Target } from '../delivery/target.js';
import type { OutgoingType } from './model.js';

/**
 * Who hears about a ticket event: every forwarding target (service desks, filtered by their `events`
 * list), and the team's chats and mailboxes for new, reopened and resolved problems (not every update).
 */
export function createFanout(config: Config) {
  const forwards: { target: Target; events?: readonly OutgoingType[] }[] = config.forwarding.targets.map(
    (f) => ({
      target: { kind: f.type, name: f.name },
      ...(f.type === 'webhook' && f.events ? { events: f.events } : {}),
    }),
  );
  // A Map, not the config object: a team label such as "constructor" must not find a prototype member.
  const teams = new Map(Object.entries(config.teams));

  function channels(team: string): Target[] {
    const t = teams.get(team);
    if (!t) return [];
    const out: Target[] = [];
    if (config.telegram) for (const c of t.telegram) out.push({ kind: 'telegram', chatId: c.chat_id });
    if (config.email) for (const e of t.email) out.push({ kind: 'email', to: e.to });
    return out;
  }

  function targetsFor(team: string, type: OutgoingType): Target[] {
    const out = forwards.filter((f) => !f.events || f.events.includes(type)).map((f) => f.target);
    if (type !== 'ticket.updated') out.push(...channels(team));
    return out;
  }

  return {
    targetsFor,
    channels,
    /** Whether anything would register a new ticket of this team. */
    hasTargets: (team: string) => targetsFor(team, 'ticket.created').length > 0,
    /** Every target id the configuration knows (the outbox drains these; rows for others are dead). */
    knownTargets(): Set<string> {
      const ids = new Set(forwards.map((f) => targetId(f.target)));
      for (const team of teams.keys()) for (const c of channels(team)) ids.add(targetId(c));
      return ids;
    },
    isChannel,
  };
}

export type Fanout = ReturnType<typeof createFanout>;
