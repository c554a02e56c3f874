// Basic auth for the exporter's HTTP endpoint, built to survive a password-guessing flood (issue 23).
// bcrypt is slow on purpose, so every check an attacker can trigger costs the till CPU; the defences:
// - credentials that passed are remembered (keyed by an HMAC under a per-process key, never stored in
//   clear), so Prometheus' scrapes skip bcrypt, and only correct credentials can enter that cache,
//   so an attacker cannot evict Prometheus from it;
// - bcrypt runs on libuv's thread pool (@node-rs/bcrypt), never on the event loop that serves scrapes;
// - one check runs at a time with a short queue, and the exporter as a whole does at most a few per
//   second; each source address (an IPv6 /64) gets a small budget of failed checks;
// - past any of these limits the answer is an immediate 401 without a check, so a flood costs little;
// - an unknown user is checked against a dummy hash of the same cost as the real ones, so timing does
//   not tell which user names exist.
import { createHmac, randomBytes } from 'node:crypto';
import type { MetricFamily } from './collector.js';

export interface AuthLimits {
  /** bcrypt checks running at once. */
  concurrentChecks: number;
  /** Checks waiting for a slot; one more is refused at once. */
  queuedChecks: number;
  /** Checks per second over the whole exporter, with this burst. */
  checksPerSecond: number;
  checkBurst: number;
  /** Failed checks one source may make at once, then one per `sourceFailureIntervalMs`. */
  sourceFailureBurst: number;
  sourceFailureIntervalMs: number;
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
};

export type Verify = (password: string, hash: string) => Promise<boolean>;
export type Rejection = 'no_credentials' | 'wrong_credentials' | 'rate_limited';

/** How many source addresses keep their own failure budget; the oldest is forgotten first. */
const MAX_SOURCES = 4096;
/** Verified credentials remembered: a few users, each with the password it currently uses. */
const MAX_VERIFIED = 64;

class TokenBucket {
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
  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
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

export class BasicAuth {
  private readonly verified = new Map<string, true>();
  private readonly sources = new Map<string, TokenBucket>();
  private readonly global: TokenBucket;
  private readonly hmacKey = randomBytes(32);
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
    private readonly users: Map<string, string>,
    private readonly verify: Verify,
    private readonly dummy: string,
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
    const cost = Math.max(...[...users.values()].map(bcryptCost));
    // A real hash of a random password, so checking an unknown user costs what checking a known one
    // does (exporter-toolkit's fixed cost-10 dummy leaks users hashed at another cost).
    const dummy = await bcrypt.hash(randomBytes(16).toString('hex'), cost);
    return new BasicAuth(
      users,
      options.verify ?? bcrypt.verify,
      dummy,
      { ...DEFAULT_AUTH_LIMITS, ...options.limits },
      options.now ?? Date.now,
    );
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
    if (colon < 0) return this.reject('no_credentials');
    const key = createHmac('sha256', this.hmacKey).update(decoded).digest('base64');
    if (this.verified.has(key)) {
      this.verified.delete(key);
      this.verified.set(key, true);
      return true;
    }

    const now = this.now();
    const src = sourceKey(source);
    const bucket = this.sources.get(src);
    if (bucket && !bucket.has(now)) return this.reject('rate_limited');
    if (!this.global.take(now)) return this.reject('rate_limited');
    if (this.running < this.limits.concurrentChecks) this.running += 1;
    else if (this.waiting.length < this.limits.queuedChecks) {
      // The finishing check hands its slot straight to the first in line.
      await new Promise<void>((r) => this.waiting.push(r));
    } else return this.reject('rate_limited');
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
    this.failedFrom(src, this.now());
    return this.reject('wrong_credentials');
  }

  private failedFrom(src: string, now: number): void {
    let bucket = this.sources.get(src);
    if (!bucket) {
      bucket = new TokenBucket(this.limits.sourceFailureBurst, 1 / this.limits.sourceFailureIntervalMs, now);
      if (this.sources.size >= MAX_SOURCES) this.forgetSources(now);
    } else {
      this.sources.delete(src);
    }
    // Re-inserted, so the map's order is least recently failed first.
    this.sources.set(src, bucket);
    bucket.take(now);
  }

  /** Drops sources whose budget has refilled (they are as good as new); else the oldest. */
  private forgetSources(now: number): void {
    for (const [k, b] of this.sources) if (b.full(now)) this.sources.delete(k);
    if (this.sources.size >= MAX_SOURCES) this.sources.delete(this.sources.keys().next().value as string);
  }

  private reject(reason: Rejection): false {
    this.rejected[reason] += 1;
    this.onReject();
    return false;
  }
}
