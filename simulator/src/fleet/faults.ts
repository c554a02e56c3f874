// The faults the fleet simulator injects, and the alert each is expected to raise (rules/*.yml).
// Faults act on the emulators' state (or on the host seams the exporter reads), so the metrics are
// produced by the real collectors and drivers, never written directly.

export const TILL_FAULTS = [
  'paper_out',
  'cover_open',
  'fn_expiring',
  'fn_expired',
  'ofd_down',
  'clock_drift',
  'utm_cert_expiring',
  'utm_hung',
  'marking_not_ready',
  'registrar_down',
  'pos_crashloop',
  'disk_filling',
  'scanner_missing',
] as const;
export type TillFault = (typeof TILL_FAULTS)[number];

export const STORE_FAULTS = ['uplink_down'] as const;
export type StoreFault = (typeof STORE_FAULTS)[number];

export function isTillFault(s: string): s is TillFault {
  return (TILL_FAULTS as readonly string[]).includes(s);
}

export function isStoreFault(s: string): s is StoreFault {
  return (STORE_FAULTS as readonly string[]).includes(s);
}

/** Which device a fault needs on the till; a till without it cannot take the fault. */
export const FAULT_NEEDS: Partial<Record<TillFault, 'utm' | 'marking' | 'scanner'>> = {
  utm_cert_expiring: 'utm',
  utm_hung: 'utm',
  marking_not_ready: 'marking',
  scanner_missing: 'scanner',
};

/**
 * The till's services the simulator can restart (what the demo's remote actions call: issue 19), and the
 * faults a restart of each clears: a hung УТМ comes back answering, a marking module stuck in sync_error
 * initialises again. Nothing else: a restart does not renew a certificate or unfreeze an old sync.
 */
export const RESTART_CLEARS = {
  utm: ['utm_hung'],
  marking: ['marking_not_ready'],
} as const satisfies Record<string, readonly TillFault[]>;
export type TillService = keyof typeof RESTART_CLEARS;

export function isTillService(s: string): s is TillService {
  return Object.hasOwn(RESTART_CLEARS, s);
}

/** The alert (and incident_class) each fault should fire with the shipped rules; see the README. */
export const EXPECTED_ALERTS: Record<TillFault | StoreFault, { alert: string; incidentClass: string }> = {
  paper_out: { alert: 'TillFiscalPaperOut', incidentClass: 'fiscal.paper_out' },
  cover_open: { alert: 'TillFiscalCoverOpen', incidentClass: 'fiscal.cover_open' },
  fn_expiring: { alert: 'TillFiscalFnExpiresIn7Days', incidentClass: 'fiscal.fn_expiry' },
  fn_expired: { alert: 'TillFiscalFnExpired', incidentClass: 'fiscal.fn_expiry' },
  ofd_down: { alert: 'TillFiscalOfdDisconnected', incidentClass: 'fiscal.ofd_disconnected' },
  clock_drift: { alert: 'TillFiscalClockDriftCritical', incidentClass: 'fiscal.clock_drift' },
  utm_cert_expiring: {
    alert: 'TillUtmCertificateExpiresIn14Days',
    incidentClass: 'egais.certificate_expiry',
  },
  // The УТМ accepts connections and never answers: what a restart of its service clears (issue 19).
  utm_hung: { alert: 'TillUtmDown', incidentClass: 'egais.utm_down' },
  marking_not_ready: { alert: 'TillMarkingNotReady', incidentClass: 'marking.not_ready' },
  registrar_down: { alert: 'TillFiscalRegistrarDown', incidentClass: 'fiscal.registrar_down' },
  pos_crashloop: { alert: 'TillProcessCrashLooping', incidentClass: 'software.crash_loop' },
  disk_filling: { alert: 'TillDiskSpaceLow', incidentClass: 'system.disk_full' },
  scanner_missing: { alert: 'TillPeripheralMissing', incidentClass: 'peripheral.missing' },
  uplink_down: { alert: 'TillStoreUnreachable', incidentClass: 'network.store_unreachable' },
};
