import { BlockList, isIP } from 'node:net';
import bcrypt from 'bcryptjs';
import { durationMs, parseDuration } from '@tillwatch/config';
import { z } from 'zod';
import { Secret } from '../secret.js';

/**
 * Who may do what: named users with roles and chain scopes, API tokens (of a user or a service),
 * the trusted reverse proxy, sessions and signed read-only links. Plugged into the bridge's config
 * as `api` and `auth`; cross-checks between the two run in `checkAuth`.
 */

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

// A guessable token is a password anyone can try; 16 characters of a random token is far beyond
// brute force even without the failure limit.
export const MIN_TOKEN_LENGTH = 16;
// HMAC keys for session cookies and links: 32 characters (openssl rand -hex 16 and up).
export const MIN_KEY_LENGTH = 32;

const minSecret = (n: number, what: string) =>
  z
    .string()
    .min(n, `${what} must be at least ${n} characters (e.g. openssl rand -hex ${Math.max(16, n / 2)})`)
    .transform((s) => new Secret(s));

const duration = (def: string) => durationMs.default(parseDuration(def)!);

const chains = z
  .array(z.string().min(1))
  .min(1, 'must name at least one chain (leave it out for all chains)');

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

const userSchema = z
  .strictObject({
    name: z.string().regex(/^[\p{L}\p{N}._@-]{1,64}$/u, 'must be 1-64 letters, digits, ".", "_", "@" or "-"'),
    // bcrypt hash (`tillwatch-bridge hash-password`); or `password` from the environment, hashed at start.
    password_hash: z.string().regex(BCRYPT, 'must be a bcrypt hash ($2b$...)').optional(),
    password: z.string().min(8, 'must be at least 8 characters').optional(),
    role: z.enum(ROLES),
    chains: chains.optional(),
    // Numeric Telegram user id, so a person's actions from Telegram are recorded under their name.
    telegram_id: z.number().int().positive().optional(),
  })
  .refine((u) => !(u.password && u.password_hash), { message: 'give password or password_hash, not both' })
  .transform(({ password, password_hash, ...u }) => ({
    ...u,
    chains: u.chains ?? null,
    // Kept as a Secret so a config dump never shows even the hash.
    password_hash: password_hash
      ? new Secret(password_hash)
      : password
        ? new Secret(bcrypt.hashSync(password, 10))
        : null,
  }));
export type UserConfig = z.infer<typeof userSchema>;

const addressList = z
  .array(z.string())
  .min(1, 'must list the proxy addresses')
  .transform((xs, ctx) => {
    const list = new BlockList();
    for (const [i, x] of xs.entries()) {
      const [addr, bits] = x.split('/');
      const family = isIP(addr ?? '');
      if (!family || (bits !== undefined && !/^\d{1,3}$/.test(bits))) {
        ctx.addIssue({ code: 'custom', path: [i], message: `"${x}" is not an IP address or CIDR range` });
        return z.NEVER;
      }
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) list.addAddress(addr!, type);
      else list.addSubnet(addr!, Number(bits), type);
    }
    return { list, text: xs };
  });

export const apiSchema = z
  .strictObject({
    tokens: z
      .array(
        z
          .strictObject({
            name: z.string().min(1),
            token: minSecret(MIN_TOKEN_LENGTH, 'a token'),
            scope: z.enum(['read', 'write']),
            // The token acts as this user (recorded under the user's name, within the user's role and chains).
            user: z.string().optional(),
            // A service token's chains; a user's token takes the user's.
            chains: chains.optional(),
          })
          .refine((t) => !(t.user && t.chains), {
            message: "a user's token takes the user's chains: give user or chains, not both",
          }),
      )
      .default([]),
  })
  .default({ tokens: [] });
export type ApiConfig = z.infer<typeof apiSchema>;

export const authSchema = z
  .strictObject({
    users: z.array(userSchema).default([]),
    session: z
      .strictObject({
        // Signs the session cookie and the forms' CSRF tokens. Required once users can log in.
        key: minSecret(MIN_KEY_LENGTH, 'a session key').optional(),
        ttl: duration('12h'),
      })
      .prefault({}),
    // Trust a reverse proxy that authenticates people and names them in a header (like Grafana's auth proxy).
    proxy: z
      .strictObject({
        header: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name'),
        from: addressList,
        // An unknown name is let in with default_role (and default_chains); false: only configured users.
        auto_create: z.boolean().default(true),
        default_role: z.enum(ROLES).default('viewer'),
        default_chains: chains.optional(),
      })
      .optional(),
    // Read-only links in messages: HMAC over (ticket id, expiry).
    links: z.strictObject({ key: minSecret(MIN_KEY_LENGTH, 'a link key'), ttl: duration('7d') }).optional(),
    // Failed logins, unknown tokens and forged links per client address.
    failures: z
      .strictObject({ limit: z.number().int().positive().default(10), window: duration('5m') })
      .prefault({}),
  })
  .prefault({});
export type AuthConfig = z.infer<typeof authSchema>;

/** Cross-checks between `api` and `auth`, run on the whole config so issues name their keys. */
export function checkAuth(c: { api: ApiConfig; auth: AuthConfig }, ctx: z.RefinementCtx): void {
  const names = new Set<string>();
  for (const [i, u] of c.auth.users.entries()) {
    if (names.has(u.name))
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'users', i, 'name'],
        message: `"${u.name}" is listed twice`,
      });
    names.add(u.name);
  }
  for (const [i, t] of c.api.tokens.entries()) {
    if (t.user !== undefined && !names.has(t.user))
      ctx.addIssue({
        code: 'custom',
        path: ['api', 'tokens', i, 'user'],
        message: `no user "${t.user}" in auth.users`,
      });
  }
  const loginUsers = c.auth.users.some((u) => u.password_hash);
  if ((loginUsers || c.auth.proxy) && !c.auth.session.key)
    ctx.addIssue({
      code: 'custom',
      path: ['auth', 'session', 'key'],
      message:
        'required when users log in or a proxy names them (it signs the session cookie and CSRF tokens)',
    });
}
