/**
 * Where an outgoing event goes. Stored in the outbox as a string id (`telegram:<chat>`,
 * `email:<a>,<b>`, `webhook:<name>`, `redmine:<name>`, `rt:<name>`); this is the one place that formats and parses it.
 */
export type Target =
  | { kind: 'telegram'; chatId: string }
  | { kind: 'email'; to: readonly string[] }
  | { kind: 'webhook'; name: string }
  | { kind: 'redmine'; name: string }
  | { kind: 'rt'; name: string };

export type TargetKind = Target['kind'];

export function targetId(t: Target): string {
  switch (t.kind) {
    case 'telegram':
      return `telegram:${t.chatId}`;
    case 'email':
      return `email:${t.to.join(',')}`;
    case 'webhook':
    case 'redmine':
    case 'rt':
      return `${t.kind}:${t.name}`;
  }
}

export class TargetParseError extends Error {
  override name = 'TargetParseError';
}

export function parseTarget(id: string): Target {
  const i = id.indexOf(':');
  const kind = id.slice(0, i);
  const rest = id.slice(i + 1);
  if (i <= 0 || rest === '') throw new TargetParseError(`not a delivery target: "${id}"`);
  switch (kind) {
    case 'telegram':
      return { kind, chatId: rest };
    case 'email':
      return { kind, to: rest.split(',') };
    case 'webhook':
    case 'redmine':
    case 'rt':
      return { kind, name: rest };
    default:
      throw new TargetParseError(`unknown delivery target kind "${kind}" in "${id}"`);
  }
}

/** Chats and mailboxes are channels (batched human messages); webhooks, Redmine and RT are forwards. */
export function isChannel(t: Target): t is Extract<Target, { kind: 'telegram' | 'email' }> {
  return t.kind === 'telegram' || t.kind === 'email';
}
