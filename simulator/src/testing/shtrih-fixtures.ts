// Shared fixtures of the Shtrih tests (TCP and serial): a pinned clock, a healthy device state
// and the exact metric lines the fiscal collector must produce for it.
import { FiscalCollector, fiscalSchema } from '@tillwatch/exporter/collectors/fiscal';
import { wallClockToEpoch } from '@tillwatch/exporter/drivers/shtrih/commands';

export const TZ = 180; // Moscow: the registrar keeps local time
export const NOW = Date.UTC(2026, 10, 25, 9, 0, 0); // 12:00 MSK
export const now = () => NOW;
export const S = NOW / 1000;
export const FN_EXPIRY = wallClockToEpoch(2027, 6, 1, 0, 0, 0, TZ);

export const REASONS = [
  'busy',
  'connection',
  'device_error',
  'framing',
  'http',
  'lrc',
  'nak',
  'parse',
  'timeout',
];

export function errorsLines(counts: Record<string, number> = {}): string[] {
  return REASONS.map((r) => `till_fiscal_errors_total{device=fiscal,reason=${r}} ${counts[r] ?? 0}`);
}

export function shtrihCollector(address: string, extra: Record<string, unknown> = {}): FiscalCollector {
  return new FiscalCollector(
    fiscalSchema.parse([
      {
        device: 'fiscal',
        driver: 'shtrih',
        address,
        password: 30,
        byte_timeout: '300ms',
        reply_timeout: '1s',
        connect_timeout: '1s',
        retries: 1,
        utc_offset_minutes: TZ,
        ...extra,
      },
    ]),
  );
}

export function healthyLines(model = 'ШТРИХ-М-01Ф'): string[] {
  return [
    `till_fiscal_info{device=fiscal,driver=shtrih,firmware=1.0.12345,fn_serial=9999078900012345,model=${model},serial=12345678} 1`,
    'till_fiscal_paper_present{device=fiscal} 1',
    'till_fiscal_cover_open{device=fiscal} 0',
    'till_fiscal_drawer_open{device=fiscal} 0',
    'till_fiscal_shift_open{device=fiscal} 1',
    'till_fiscal_shift_expired{device=fiscal} 0',
    // From the shift's opening report in the FN archive (FF40, FF0A).
    `till_fiscal_shift_opened_timestamp_seconds{device=fiscal} ${S - 3600}`,
    `till_fiscal_fn_expiry_timestamp_seconds{device=fiscal} ${FN_EXPIRY}`,
    ...['critical', 'memory_full', 'ofd_timeout', 'replace_urgent', 'resource_low'].map(
      (w) => `till_fiscal_fn_warning{device=fiscal,warning=${w}} 0`,
    ),
    'till_fiscal_fn_documents_remaining{device=fiscal} 240000',
    'till_fiscal_ofd_connected{device=fiscal} 1',
    'till_fiscal_ofd_unsent_documents{device=fiscal} 3',
    `till_fiscal_ofd_oldest_unsent_timestamp_seconds{device=fiscal} ${S - 2 * 86400}`,
    'till_fiscal_clock_offset_seconds{device=fiscal} 90',
    'till_fiscal_last_error_code{device=fiscal} 0',
    ...errorsLines(),
    'till_device_up{device=fiscal,kind=fiscal} 1',
  ].sort();
}

export const HEALTHY_STATE = {
  fnExpiry: FN_EXPIRY,
  ofdQueue: 3,
  ofdOldestUnsentAt: S - 2 * 86400,
  clockOffsetSeconds: 90,
  shiftOpenedAt: S - 3600,
};
