import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { ApiConfig, AuthConfig, Role, UserConfig } from './config.js';
import { safeEqual } from './equal.js';

/** Who is asking, as every route sees it: a name to record, a role, and the chains they may see. */
export interface Principal {
  /** Recorded as the actor of what they do. */
  name: string;
  role: Role;
  /** null: every chain. */
  chains: readonly string[] | null;
  /** How they proved it; `session` also carries the session id CSRF tokens are bound to. */
  via: 'token' | 'session' | 'proxy' | 'basic' | 'telegram';
  session?: string;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export const can = (p: Principal, need: Role): boolean => RANK[p.role] >= RANK[need];
const lower = (a: Role, b: Role): Role => (RANK[a] <= RANK[b] ? a : b);

/** Whether the person may see a ticket of this chain (a ticket without a chain: only unscoped people). */
export const sees = (p: Principal, t: { chain: string | null }): boolean =>
  p.chains === null || (t.chain !== null && p.chains.includes(t.chain));

// Compared against when a name is unknown, so a failed login takes as long for a missing user as
// for a wrong password and does not tell which names exist.
const DUMMY_HASH = bcrypt.hashSync('tillwatch-no-such-user', 10);

/** The configured people and tokens; answers "who is this" for each way of proving it. */
export class Directory {
  private readonly users = new Map<string, UserConfig>();

  constructor(
    private readonly auth: AuthConfig,
    private readonly api: ApiConfig,
  ) {
    for (const u of auth.users) this.users.set(u.name, u);
  }

  /** Whether anyone can log in with a password (the pages then offer a login form). */
  get hasLogins(): boolean {
    return this.auth.users.some((u) => u.password_hash !== null);
  }

  list(): readonly UserConfig[] {
    return this.auth.users;
  }

  user(name: string): UserConfig | undefined {
    return this.users.get(name);
  }

  /** People a ticket can be assigned to: those who may act on tickets. */
  assignees(): string[] {
    return this.auth.users.filter((u) => can(asPrincipal(u, 'session'), 'operator')).map((u) => u.name);
  }

  /**
   * An API token: a user's token acts as the user, capped by the token's scope (read: viewer);
   * a service token is a viewer (read) or an operator (write) under its own name.
   */
  byToken(given: string): Principal | undefined {
    // Compare against every token so the time taken does not depend on which one matched.
    let found: ApiConfig['tokens'][number] | undefined;
    for (const t of this.api.tokens) if (safeEqual(t.token.reveal(), given) && !found) found = t;
    if (!found) return undefined;
    const cap: Role = found.scope === 'write' ? 'admin' : 'viewer';
    if (found.user !== undefined) {
      const u = this.users.get(found.user)!;
      return { name: u.name, role: lower(u.role, cap), chains: u.chains, via: 'token' };
    }
    return {
      name: found.name,
      role: found.scope === 'write' ? 'operator' : 'viewer',
      chains: found.chains ?? null,
      via: 'token',
    };
  }

  /** A login form's name and password. */
  async login(name: string, password: string): Promise<Principal | undefined> {
    const u = this.users.get(name);
    const hash = u?.password_hash?.reveal();
    const ok = await bcrypt.compare(password, hash ?? DUMMY_HASH);
    return ok && u && hash ? asPrincipal(u, 'session') : undefined;
  }

  /** A name a trusted proxy sent: a configured user, or (auto_create) a newcomer with the default role. */
  byProxy(name: string): Principal | undefined {
    const p = this.auth.proxy;
    if (!p) return undefined;
    const u = this.users.get(name);
    if (u) return asPrincipal(u, 'proxy');
    if (!p.auto_create) return undefined;
    return { name, role: p.default_role, chains: p.default_chains ?? null, via: 'proxy' };
  }

  /**
   * A short fingerprint of the user's password hash, kept in the session cookie: changing the
   * password (or removing the user) ends every session opened with the old one.
   */
  passwordVersion(name: string): string | undefined {
    const h = this.users.get(name)?.password_hash?.reveal();
    return h ? createHash('sha256').update(h).digest('base64url').slice(0, 12) : undefined;
  }
}

export function asPrincipal(u: UserConfig, via: Principal['via']): Principal {
  return { name: u.name, role: u.role, chains: u.chains, via };
}
