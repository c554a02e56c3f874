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
