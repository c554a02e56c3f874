// The state of an emulated fiscal registrar, shared by the Shtrih and ATOL emulators.
// Times are Unix seconds; the device's clock is the emulator's clock plus clockOffsetSeconds.
import { z } from 'zod';

const ts = z.number().int().min(0);

export const fiscalStateSchema = z.strictObject({
  model: z.string().min(1),
  serial: z.string().regex(/^\d{1,10}$/, { error: 'serial must be up to 10 digits' }),
  fnSerial: z.string().min(1).max(16),
  /** Two characters such as "1.0" (Shtrih sends two ASCII characters) and a build number. */
  firmwareVersion: z.string().regex(/^\w\.\w$/, { error: 'firmwareVersion must look like "1.0"' }),
  firmwareBuild: z.number().int().min(0).max(65535),
  paperPresent: z.boolean(),
  coverOpen: z.boolean(),
  drawerOpen: z.boolean(),
  shiftOpen: z.boolean(),
  shiftNumber: z.number().int().min(0).max(65535),
  shiftOpenedAt: ts.nullable(),
  /** Number of the FN's last fiscal document; documents are numbered from 1 for the life of the FN. */
  lastDocumentNumber: z.number().int().min(0).max(0xffffffff),
  /** Number of the open shift's opening report (a fiscal document of type 2); null when unknown or closed. */
  shiftOpenDocument: z.number().int().min(1).nullable(),
  /** Receipts in the open shift (the shift's receipt counter). */
  receiptsInShift: z.number().int().min(0).max(65535),
  fnExpiry: ts,
  fnWarnings: z.strictObject({
    replace_urgent: z.boolean(),
    resource_low: z.boolean(),
    memory_full: z.boolean(),
    ofd_timeout: z.boolean(),
    critical: z.boolean(),
  }),
  documentsRemaining: z.number().int().min(0),
  ofdConnected: z.boolean(),
  ofdQueue: z.number().int().min(0).max(65535),
  ofdOldestUnsentAt: ts.nullable(),
  clockOffsetSeconds: z.number().int(),
  /** A standing FN error: FN commands/tasks fail with this code while it is non-zero (e.g. 0x2F FN not responding). */
  errorCode: z.number().int().min(0).max(255),
});

export type FiscalState = z.infer<typeof fiscalStateSchema>;

export function defaultFiscalState(nowSeconds: number): FiscalState {
  return {
    model: 'ШТРИХ-М-01Ф',
    serial: '12345678',
    fnSerial: '9999078900012345',
    firmwareVersion: '1.0',
    firmwareBuild: 12345,
    paperPresent: true,
    coverOpen: false,
    drawerOpen: false,
    shiftOpen: true,
    shiftNumber: 42,
    shiftOpenedAt: nowSeconds - 3600,
    lastDocumentNumber: 1000,
    shiftOpenDocument: 980,
    receiptsInShift: 20,
    fnExpiry: nowSeconds + 300 * 86400,
    fnWarnings: {
      replace_urgent: false,
      resource_low: false,
      memory_full: false,
      ofd_timeout: false,
      critical: false,
    },
    documentsRemaining: 240_000,
    ofdConnected: true,
    ofdQueue: 0,
    ofdOldestUnsentAt: null,
    clockOffsetSeconds: 0,
    errorCode: 0,
  };
}

export function shiftExpired(s: FiscalState, nowSeconds: number): boolean {
  return s.shiftOpen && s.shiftOpenedAt !== null && nowSeconds - s.shiftOpenedAt > 24 * 3600;
}

/** The state after the cashier opens a new shift at `atSeconds` (device time): the opening report is the next document. */
export function openShift(s: FiscalState, atSeconds: number): FiscalState {
  const doc = s.lastDocumentNumber + 1;
  return {
    ...s,
    shiftOpen: true,
    shiftNumber: s.shiftNumber + 1,
    shiftOpenedAt: atSeconds,
    lastDocumentNumber: doc,
    shiftOpenDocument: doc,
    receiptsInShift: 0,
  };
}

/** The state after the Z-report closes the shift (itself a fiscal document). */
export function closeShift(s: FiscalState): FiscalState {
  return {
    ...s,
    shiftOpen: false,
    shiftOpenedAt: null,
    shiftOpenDocument: null,
    lastDocumentNumber: s.lastDocumentNumber + 1,
    receiptsInShift: 0,
  };
}

/** The state after `n` receipts: each is one fiscal document and uses one of the FN's remaining documents. */
export function sell(s: FiscalState, n = 1): FiscalState {
  return {
    ...s,
    lastDocumentNumber: s.lastDocumentNumber + n,
    receiptsInShift: s.receiptsInShift + n,
    documentsRemaining: Math.max(0, s.documentsRemaining - n),
  };
}
