// The `remediation` section of the bridge config: which tills may fetch actions (each with its own
// secret), which incident classes get an automatic first step, and the switches that stop it all.
import { z } from 'zod';
import { durationMs } from '@tillwatch/config';
import { Secret } from '../secret.js';

/** Action names as tills declare them in their allowlist. */
export const ACTION_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const CHOICE = /^(?!\.{1,2}$)(?!-)[A-Za-z0-9_.@-]{1,64}$/;

/**
 * Fiscal state is never touched automatically: closing a shift, re-registering, or anything sent to the
 * registrar or its fiscal drive changes what the tax service sees and cannot be undone; the POS program
 * also holds the registrar, so a second writer can break a receipt being printed. A policy may not name
 * a fiscal incident class or an action whose name says it is fiscal.
 */
export const FISCAL_CLASS = /^fiscal\./;
export const FISCAL_ACTION = /(shift|fiscal|regist|(^|_)fn(_|$)|ofd|kkt|receipt)/;

const policy = z.strictObject({
  action: z.string().regex(ACTION_NAME, { error: 'action names are a-z, 0-9 and _ (as on the till)' }),
  /** One of the action's declared choices on the till (a service or queue name), when it has any. */
  choice: z.string().regex(CHOICE, { error: 'must be one plain word (letters, digits, _ . @ -)' }).optional(),
  /** Attempts before giving up (each after the previous one failed). */
  attempts: z.number().int().min(1).max(5).default(1),
  /** How long the first page waits for the step to work (the alert to resolve). */
  wait: durationMs.default(5 * 60_000),
});

const till = z.strictObject({
  id: z.string().regex(/^[^\s/"\\]+\/[^\s/"\\]+\/[^\s/"\\]+$/, { error: 'expected chain/store/till' }),
  secret: z
    .string()
    .min(32, { error: 'must be at least 32 characters (a random per-till secret)' })
    .transform((s) => new Secret(s)),
});

export const remediationSchema = z
  .strictObject({
    /** The global kill switch: false stops queueing and handing out actions at once. */
    enabled: z.boolean().default(true),
    /** While this file exists, the same as enabled: false (no restart, no config change needed). */
    kill_switch_file: z.string().min(1).optional(),
    /** Chains whose tills get no action (the per-chain kill switch). */
    disabled_chains: z.array(z.string().min(1)).default([]),
    /** Record on the ticket what would be queued, queue nothing and hold no page. */
    dry_run: z.boolean().default(false),
    /** How far a till's request timestamp may be from the bridge's clock. */
    max_clock_skew: durationMs.default(5 * 60_000),
    /** An action not fetched within this is dropped (a till that comes back later must not act on old news). */
    action_ttl: durationMs.default(10 * 60_000),
    tills: z.array(till).default([]),
    /** By incident class. */
    policies: z.record(z.string().min(1), policy).default({}),
  })
  .superRefine((r, ctx) => {
    const seen = new Set<string>();
    for (const [i, t] of r.tills.entries()) {
      if (seen.has(t.id))
        ctx.addIssue({ code: 'custom', path: ['tills', i, 'id'], message: `${t.id} is enrolled twice` });
      seen.add(t.id);
    }
    for (const [cls, p] of Object.entries(r.policies)) {
      if (FISCAL_CLASS.test(cls))
        ctx.addIssue({
          code: 'custom',
          path: ['policies', cls],
          message: 'fiscal incidents are never remediated automatically (docs/security.md, "Remote actions")',
        });
      else if (FISCAL_ACTION.test(p.action))
        ctx.addIssue({
          code: 'custom',
          path: ['policies', cls, 'action'],
          message: `${p.action} looks like a fiscal action: those are never automatic (docs/security.md, "Remote actions")`,
        });
    }
  });

export type RemediationConfig = z.infer<typeof remediationSchema>;
export type RemediationPolicy = z.infer<typeof policy>;
