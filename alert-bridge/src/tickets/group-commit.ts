// Bounds of one group commit: enough to absorb a burst, small enough that one transaction stays short.
const GROUP_MAX = 64;
const GROUP_MAX_WEIGHT = 5_000;

/** One unit of work: the problem keys it touches and its weight (alerts) toward the group bound. */
export interface Work {
  keys: readonly string[];
  weight: number;
}

/**
 * Group commit: work that arrives while a commit is in flight waits and is then applied together in
 * a single transaction, so it shares one commit (one fsync on SQLite with synchronous=FULL, one WAL
 * flush on PostgreSQL) instead of queueing for one commit each. Every caller is answered only after
 * that shared commit. The outcome is the same as applying the work one after the other: work touching
 * disjoint keys is merged into one round, and work that touches a key already in the round starts a
 * new round, so it sees the writes of the earlier one, in arrival order. If a grouped transaction
 * fails, each piece is retried alone, so only a faulty one gets the error.
 */
export class GroupCommit<W extends Work, R> {
  private readonly pending: { work: W; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private committing = false;

  /** `commit` runs the rounds in one transaction and returns one result per work item, in order. */
  constructor(private readonly commit: (rounds: W[][]) => Promise<R[][]>) {}

  submit(work: W): Promise<R> {
    return new Promise((resolve, reject) => {
      this.pending.push({ work, resolve, reject });
      if (!this.committing) {
        this.committing = true;
        void this.drain();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      // Let the requests already read in this turn of the event loop join the group first: on SQLite
      // the whole transaction, fsync included, runs synchronously, so requests that arrived meanwhile
      // are only parsed after it.
      await new Promise((r) => setImmediate(r));
      while (this.pending.length > 0) {
        let weight = 0;
        let n = 0;
        while (n < this.pending.length && n < GROUP_MAX && weight < GROUP_MAX_WEIGHT)
          weight += this.pending[n++]!.work.weight;
        await this.run(this.pending.splice(0, n));
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.committing = false;
    }
  }

  private async run(group: typeof this.pending): Promise<void> {
    const rounds: (typeof this.pending)[] = [];
    let round: typeof this.pending = [];
    const inRound = new Set<string>();
    for (const p of group) {
      if (p.work.keys.some((k) => inRound.has(k))) {
        rounds.push(round);
        round = [];
        inRound.clear();
      }
      round.push(p);
      for (const k of p.work.keys) inRound.add(k);
    }
    rounds.push(round);
    let results: R[][];
    try {
      results = await this.commit(rounds.map((r) => r.map((p) => p.work)));
    } catch (e) {
      if (group.length === 1) return group[0]!.reject(e);
      // One bad notification (or a deadlock with another replica) must not fail the others it was
      // grouped with.
      for (const p of group) await this.run([p]);
      return;
    }
    for (const [i, r] of rounds.entries()) for (const [j, p] of r.entries()) p.resolve(results[i]![j]!);
  }
}
