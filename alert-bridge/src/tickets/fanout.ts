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

  // Escalation levels: their own chats, mailboxes and webhooks, named after the level in metrics.
  const levelTargets = (l: Config['escalation']['policies'][number]['levels'][number]): Target[] => [
    ...(config.telegram ? l.telegram.map((c): Target => ({ kind: 'telegram', chatId: c.chat_id })) : []),
    ...(config.email ? l.email.map((e): Target => ({ kind: 'email', to: e.to })) : []),
    ...l.webhook.map((name): Target => ({ kind: 'webhook', name })),
  ];

  return {
    targetsFor,
    levelTargets,
    channels,
    /** Whether anything would register a new ticket of this team. */
    hasTargets: (team: string) => targetsFor(team, 'ticket.created').length > 0,
    /**
     * Every target id the configuration delivers to (the outbox drains these; rows for any other are
     * dead-lettered), with the name metrics and logs show: the forward's name, or the team's for a
     * chat or mailbox, so chat ids and e-mail addresses stay out of unauthenticated /metrics.
     */
    targetNames(): Map<string, string> {
      const names = new Map(forwards.map((f) => [targetId(f.target), targetId(f.target)] as const));
      for (const team of teams.keys()) {
        const cs = channels(team);
        for (const [i, c] of cs.entries()) {
          const id = targetId(c);
          const same = cs.filter((x) => x.kind === c.kind).length;
          if (!names.has(id)) names.set(id, `${c.kind}:${team}${same > 1 ? `-${i + 1}` : ''}`);
        }
      }
      for (const p of config.escalation.policies)
        for (const l of p.levels) {
          const cs = levelTargets(l);
          for (const [i, c] of cs.entries()) {
            const id = targetId(c);
            const same = cs.filter((x) => x.kind === c.kind).length;
            if (!names.has(id)) names.set(id, `${c.kind}:escalation-${l.name}${same > 1 ? `-${i + 1}` : ''}`);
          }
        }
      return names;
    },
    isChannel,
  };
}

export type Fanout = ReturnType<typeof createFanout>;
