import { z } from 'zod';
import type { TicketService } from '../tickets/index.js';

/**
 * The people's actions on a ticket, shared by the API (JSON bodies) and the ticket page (forms):
 * one schema and one call each, so both record the same events.
 */
const note = z.string().max(10_000).optional();

export const ACTIONS = {
  acknowledge: {
    body: z.strictObject({ note }).default({}),
    run: (t: TicketService, id: number, actor: string, b: { note?: string | undefined }) =>
      t.acknowledge(id, actor, b.note),
  },
  resolve: {
    body: z.strictObject({ note, force: z.boolean().optional() }).default({}),
    run: (
      t: TicketService,
      id: number,
      actor: string,
      b: { note?: string | undefined; force?: boolean | undefined },
    ) => t.resolve(id, actor, b),
  },
  reopen: {
    body: z.strictObject({ note }).default({}),
    run: (t: TicketService, id: number, actor: string, b: { note?: string | undefined }) =>
      t.reopen(id, actor, b.note),
  },
  assign: {
    body: z.strictObject({ assignee: z.string().min(1).max(200).nullable() }),
    run: (t: TicketService, id: number, actor: string, b: { assignee: string | null }) =>
      t.assign(id, actor, b.assignee),
  },
  wait: {
    body: z.strictObject({ note }).default({}),
    run: (t: TicketService, id: number, actor: string, b: { note?: string | undefined }) =>
      t.wait(id, actor, b.note),
  },
  resume: {
    body: z.strictObject({ note }).default({}),
    run: (t: TicketService, id: number, actor: string, b: { note?: string | undefined }) =>
      t.resume(id, actor, b.note),
  },
  // A remote action on the ticket's till (its allowlist decides); `confirm: true` is the person's yes.
  remote_action: {
    body: z.strictObject({
      action: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'action names are a-z, 0-9 and _'),
      choice: z
        .string()
        .regex(/^(?!\.{1,2}$)(?!-)[A-Za-z0-9_.@-]{1,64}$/, 'must be one plain word')
        .optional(),
      confirm: z.literal(true, { error: 'confirm: true is required: a remote action runs on a till' }),
    }),
    run: (t: TicketService, id: number, actor: string, b: { action: string; choice?: string | undefined }) =>
      t.remediation.request(id, actor, b.action, b.choice),
  },
  comments: {
    body: z.strictObject({ text: z.string().trim().min(1).max(10_000) }),
    run: (t: TicketService, id: number, actor: string, b: { text: string }) => t.comment(id, actor, b.text),
  },
} as const;

export type ActionName = keyof typeof ACTIONS;
export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];
