// What a fiscal registrar driver reports in one poll, whichever protocol it speaks.
import type { DriverError } from './errors.js';

export const FN_WARNINGS = [
  'replace_urgent',
  'resource_low',
  'memory_full',
  'ofd_timeout',
  'critical',
] as const;
export type FnWarning = (typeof FN_WARNINGS)[number];

/** Every field is optional: a field is absent when the device did not tell it in this poll. */
export interface FiscalSnapshot {
  model?: string;
  serial?: string;
  fnSerial?: string;
  firmware?: string;
  paperPresent?: boolean;
  coverOpen?: boolean;
  drawerOpen?: boolean;
  shiftOpen?: boolean;
  shiftExpired?: boolean;
  /** Unix seconds. */
  shiftOpenedAt?: number;
  fnExpiry?: number;
  fnWarnings?: Record<FnWarning, boolean>;
  documentsRemaining?: number;
  ofdConnected?: boolean;
  ofdUnsent?: number;
  /** Unix seconds; absent when nothing is unsent. */
  ofdOldestUnsent?: number;
  /** Registrar clock minus host clock, seconds. */
  clockOffsetSeconds?: number;
}

export interface FiscalPoll {
  /** The device answered with well-formed replies (error bytes included). */
  up: boolean;
  snapshot: FiscalSnapshot;
  /** One entry per failed command or request in this poll. */
  errors: DriverError[];
  /** Error code of the last failed command in this poll, 0 when none failed with a device error. */
  lastErrorCode: number;
}

export interface FiscalDriver {
  poll(signal: AbortSignal, now: () => number): Promise<FiscalPoll>;
  close(): Promise<void>;
}
