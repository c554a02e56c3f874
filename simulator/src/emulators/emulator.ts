// What every device emulator offers the control API, the CLI and tests.
import type { z } from 'zod';
import type { Fault, FaultSet } from './faults.js';

export type EmulatorKind = 'shtrih' | 'atol' | 'utm' | 'marking';

export abstract class Emulator<S extends object> {
  abstract readonly kind: EmulatorKind;
  protected abstract readonly stateSchema: z.ZodType<S>;
  protected abstract readonly faults: FaultSet;
  protected state: S;

  constructor(
    readonly id: string,
    initial: S,
  ) {
    this.state = structuredClone(initial);
  }

  /** A copy of the device state. */
  getState(): S {
    return structuredClone(this.state);
  }

  /** Merges a partial state (validated; nested objects are merged one level deep). Throws ZodError on bad input. */
  patchState(patch: unknown): S {
    const merged: Record<string, unknown> = { ...(this.state as Record<string, unknown>) };
    if (typeof patch === 'object' && patch !== null && !Array.isArray(patch)) {
      for (const [k, v] of Object.entries(patch)) {
        const cur = merged[k];
        merged[k] =
          typeof cur === 'object' &&
          cur !== null &&
          !Array.isArray(cur) &&
          typeof v === 'object' &&
          v !== null &&
          !Array.isArray(v)
            ? { ...cur, ...v }
            : v;
      }
    } else {
      // Let the schema produce the error message.
      this.stateSchema.parse(patch);
    }
    this.state = this.stateSchema.parse(merged);
    return this.getState();
  }

  addFault(fault: unknown): Fault {
    return this.faults.add(fault);
  }

  /** Typed convenience for tests. */
  fault(f: Fault): void {
    this.faults.add(f);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  listFaults(): Fault[] {
    return this.faults.list();
  }

  /** Where a client reaches the device, e.g. tcp://127.0.0.1:7778 or http://127.0.0.1:8080. */
  abstract get address(): string;
  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
}
