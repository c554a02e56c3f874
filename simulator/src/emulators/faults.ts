// Faults an emulator can be told to produce, per device, optionally limited to one command
// (Shtrih command code such as "FF39", ATOL task type, or HTTP path) and to a number of exchanges.
import { z } from 'zod';

export const FAULT_TYPES = [
  'no_answer',
  'nak_storm',
  'corrupt_lrc',
  'truncated',
  'error_byte',
  'garbage',
  'slow',
  'drop',
  'http_500',
  'malformed_json',
] as const;
export type FaultType = (typeof FAULT_TYPES)[number];
/** Faults of HTTP devices only; a serial/TCP registrar has every other one. */
export const HTTP_ONLY_FAULTS: readonly FaultType[] = ['http_500', 'malformed_json'];

export const faultSchema = z.strictObject({
  type: z.enum(FAULT_TYPES),
  /** Only exchanges for this command / task / path (a trailing * matches a prefix); all when absent. */
  command: z.string().min(1).optional(),
  /** Device error code for error_byte. */
  code: z.number().int().min(0).max(0xffff).optional(),
  /** Delay for slow. */
  delayMs: z.number().int().min(0).max(600_000).optional(),
  /** How many exchanges the fault affects; until cleared when absent. */
  times: z.number().int().min(1).optional(),
});
export type Fault = z.infer<typeof faultSchema>;

export class FaultSet {
  private faults: Fault[] = [];

  constructor(private readonly supported: readonly FaultType[]) {}

  add(input: unknown): Fault {
    const f = faultSchema.parse(input);
    if (!this.supported.includes(f.type)) {
      throw new z.ZodError([
        {
          code: 'custom',
          path: ['type'],
          message: `fault ${f.type} is not supported here (supported: ${this.supported.join(', ')})`,
          input: f.type,
        },
      ]);
    }
    this.faults.push({ ...f });
    return f;
  }

  clear(): void {
    this.faults = [];
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** The first fault for this command, counting one use of it; `peek` does not count. */
  take(command: string, peek = false): Fault | undefined {
    const c = command.toLowerCase();
    const i = this.faults.findIndex((f) => {
      if (f.command === undefined) return true;
      const want = f.command.toLowerCase();
      return want.endsWith('*') ? c.startsWith(want.slice(0, -1)) : c === want;
    });
    const f = this.faults[i];
    if (!f) return undefined;
    if (!peek && f.times !== undefined) {
      f.times -= 1;
      if (f.times <= 0) this.faults.splice(i, 1);
    }
    return { ...f };
  }
}

/**
 * mulberry32: a tiny seeded generator of numbers in [0, 1), so garbage replies, a synthetic fleet or a
 * fuzz corpus are the same on every run and a failing case can be replayed from its seed. Kept
 * bit-for-bit: the prediction-quality figures in docs/benchmarks.md were measured on its output.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
