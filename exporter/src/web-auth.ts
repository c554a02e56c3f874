// Basic auth for the exporter's HTTP endpoint, built to survive a password-guessing flood (issue 23).
// bcrypt is slow on purpose, so every check an attacker can trigger costs the till CPU; and even a
// cheap 401 costs the event loop that also serves the scrape, so a flood answered at full speed keeps
// Prometheus waiting in line behind it (80 connections: scrapes of 50 ms to 850 ms). The defences:
// - credentials that passed are remembered (keyed by an HMAC under a per-process key, never stored in
//   clear), so Prometheus' scrapes skip bcrypt and every limit below; only correct credentials can
//   enter that cache, so an attacker cannot evict Prometheus from it;
// - bcrypt runs on libuv's thread pool (@node-rs/bcrypt), never on the event loop;
// - one check runs at a time with a short queue, and the exporter as a whole does a few per second;
// - each source address (an IPv6 /64) has a small budget of refused requests; past it, or past the
//   exporter's check budget, a request is refused without a check and its 401 is held back a second,
//   so each attacking connection costs about one cheap request per second;
// - an unknown user is checked against a dummy hash of the same cost as the real ones, so timing does
//   not tell which user names exist.
import type { MetricFamily } from './collector.js';
import { crypto } from './lazy-builtins.js';

export interface AuthLimits {
  /** bcrypt checks running at once. */
  concurrentChecks: number;
  /** Checks waiting for a slot; one more is refused at once. */
  queuedChecks: number;
  /** Checks per second over the whole exporter, with this burst. */
  checksPerSecond: number;
  checkBurst: number;
  /** Refused requests one source may have at once, then one per `sourceFailureIntervalMs`. */
  sourceFailureBurst: number;
  sourceFailureIntervalMs: number;
  /** How long the 401 of a request refused by a limit is held back. */
  limitedDelayMs: number;
}

export const DEFAULT_AUTH_LIMITS: AuthLimits = {
  // exporter-toolkit also runs one bcrypt at a time; at cost 10 that is ~65 ms of one core.
  concurrentChecks: 1,
  // Two Prometheus servers of an HA pair and a person with curl fit; a flood does not.
  queuedChecks: 4,
  // ~13 % of one core at cost 10: the exporter's unit has 25 % (CPUQuota) for everything it does.
  checksPerSecond: 2,
  checkBurst: 5,
  // A person mistyping a password gets several tries; a guesser gets 10 per minute per address.
  sourceFailureBurst: 10,
  sourceFailureIntervalMs: 6000,
  // Long enough that a flood's connections idle, short enough that a person at curl barely notices.
  limitedDelayMs: 1000,
};

export type Verify = (password: string, hash: string) => Promise<boolean>;
export type Rejection = 'no_credentials' | 'wrong_credentials' | 'rate_limited';

/** How many source addresses keep their own failure budget; the oldest is forgotten first. */
const MAX_SOURCES = 4096;
/** Verified credentials remembered: a few users, each with the password it currently uses. */
const MAX_VERIFIED = 64;

/** A token bucket: `burst` tokens, refilled at `perMs` per millisecond. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly burst: number,
    private readonly perMs: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }
  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
  }
  has(now: number): boolean {
    this.refill(now);
    return this.tokens >= 1;
  }
  take(now: number): boolean {
    if (!this.has(now)) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * The rate-limit key of a peer: an IPv4 address, or the /64 of an IPv6 one (one host can use a whole
 * /64, so per-address budgets would be free to multiply). IPv4-mapped IPv6 counts as IPv4.
 */
export function sourceKey(address: string | undefined): string {
  if (!address) return '?';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.split('%')[0]?.split('::') ?? [];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}

/** Cost of a bcrypt hash ("$2y$10$..." -> 10). */
function bcryptCost(hash: string): number {
  return Number(/^\$2[aby]\$(\d\d)\$/.exec(hash)?.[1] ?? 10);
}

/**
 * A real hash of a random password at the users' highest cost, so checking an unknown user costs what
 * checking a known one does (exporter-toolkit's fixed cost-10 dummy leaks users hashed at another cost).
 */
async function dummyHash(users: Map<string, string>): Promise<string> {
  const bcrypt = await import('@node-rs/bcrypt');
  return bcrypt.hash(
    crypto().randomBytes(16).toString('hex'),
    Math.max(...[...users.values()].map(bcryptCost)),
  );
}

export class BasicAuth {
  private readonly verified = new Map<string, true>();
  private readonly sources = new Map<string, TokenBucket>();
  private readonly global: TokenBucket;
  private readonly hmacKey = crypto().randomBytes(32);
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly rejected: Record<Rejection, number> = {
    no_credentials: 0,
    wrong_credentials: 0,
    rate_limited: 0,
  };
  /** Called after every rejection, so the /metrics snapshot picks up the new counts. */
  onReject: () => void = () => {};

  private constructor(
    private users: Map<string, string>,
    private readonly verify: Verify,
    private dummy: string,
    private readonly limits: AuthLimits,
    private readonly now: () => number,
  ) {
    this.global = new TokenBucket(limits.checkBurst, limits.checksPerSecond / 1000, now());
  }

  static async create(
    users: Map<string, string>,
    options: { limits?: Partial<AuthLimits>; verify?: Verify; now?: () => number } = {},
  ): Promise<BasicAuth> {
    // Loaded only when a web config asks for basic auth (RSS budget on the till).
    const bcrypt = await import('@node-rs/bcrypt');
    return new BasicAuth(
      users,
      options.verify ?? bcrypt.verify,
      await dummyHash(users),
      { ...DEFAULT_AUTH_LIMITS, ...options.limits },
      options.now ?? Date.now,
    );
  }

  /**
   * Replaces the users (a reloaded web config). Credentials verified before are forgotten, so a
   * removed user or a changed password stops working at once; budgets and counters stay.
   */
  async setUsers(users: Map<string, string>): Promise<void> {
    const dummy = await dummyHash(users);
    this.users = users;
    this.dummy = dummy;
    this.verified.clear();
  }

  /** Rejections so far by reason, as the exporter exposes them. */
  families(): MetricFamily[] {
    return [
      {
        name: 'till_exporter_http_auth_failures_total',
        help: 'Requests refused by basic auth, by reason; rate_limited ones were refused without a bcrypt check.',
        type: 'counter',
        samples: (Object.keys(this.rejected) as Rejection[]).map((reason) => ({
          labels: { reason },
          value: this.rejected[reason],
        })),
      },
    ];
  }

  /** Checks an Authorization header from `source` (a peer address); true lets the request through. */
  async check(header: string | undefined, source: string | undefined): Promise<boolean> {
    // RFC 7617: the scheme name is case-insensitive.
    const m = /^basic +([A-Za-z0-9+/=._~-]+) *$/i.exec(header ?? '');
    const decoded = m?.[1] ? Buffer.from(m[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const key = colon < 0 ? '' : crypto().createHmac('sha256', this.hmacKey).update(decoded).digest('base64');
    if (key && this.verified.has(key)) {
      this.verified.delete(key);
      this.verified.set(key, true);
      return true;
    }

    const src = sourceKey(source);
    const bucket = this.sources.get(src);
    if (bucket && !bucket.has(this.now())) return this.refuse(src, 'rate_limited');
    if (!key) return this.refuse(src, 'no_credentials');
    if (!this.global.take(this.now())) return this.refuse(src, 'rate_limited');
    if (this.running < this.limits.concurrentChecks) this.running += 1;
    else if (this.waiting.length < this.limits.queuedChecks) {
      // The finishing check hands its slot straight to the first in line.
      await new Promise<void>((r) => this.waiting.push(r));
    } else return this.refuse(src, 'rate_limited');
    let ok: boolean;
    try {
      const hash = this.users.get(decoded.slice(0, colon));
      ok = (await this.verify(decoded.slice(colon + 1), hash ?? this.dummy)) && hash !== undefined;
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
    if (ok) {
      this.verified.set(key, true);
      if (this.verified.size > MAX_VERIFIED)
        this.verified.delete(this.verified.keys().next().value as string);
      return true;
    }
    return this.refuse(src, 'wrong_credentials');
  }

  /** Counts a refusal against the source; one refused by a limit is answered late. */
  private async refuse(src: string, reason: Rejection): Promise<false> {
    this.spend(src, this.now());
    this.rejected[reason] += 1;
    this.onReject();
    if (reason === 'rate_limited') await new Promise((r) => setTimeout(r, this.limits.limitedDelayMs));
    return false;
  }

  private spend(src: string, now: number): void {
    let bucket = this.sources.get(src);
    if (!bucket) {
      bucket = new TokenBucket(this.limits.sourceFailureBurst, 1 / this.limits.sourceFailureIntervalMs, now);
      // The least recently refused source goes: its budget has most likely refilled anyway.
      if (this.sources.size >= MAX_SOURCES) this.sources.delete(this.sources.keys().next().value as string);
    } else {
      this.sources.delete(src);
    }
    // Re-inserted, so the map's order is least recently refused first.
    this.sources.set(src, bucket);
    bucket.take(now);
  }
}
