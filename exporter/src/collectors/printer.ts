// Receipt and label printers through CUPS or the printer's own IPP server: state, state reasons (paper
// out, cover open, offline...), queue length and the age of the oldest job. Read-only IPP operations only,
// so nothing competes with the POS program for the printer. Metrics: docs/metrics.md, "Printers (IPP)".
import { z } from 'zod';
import { registerCollector, type CollectResult, type DeviceRef } from '../collector.js';
import { toDriverError } from '../drivers/errors.js';
import { FamilySet } from '../drivers/families.js';
import { readPrinter } from '../drivers/ipp.js';
import { uniqueList } from './schemas.js';
import { positiveDurationMs } from '@tillwatch/config';

const printerSchema = z.strictObject({
  device: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected letters, digits, "_", "." or "-"' }),
  /** ipp://127.0.0.1:631/printers/receipt (CUPS), or the printer's own ipp:// or http:// IPP address. */
  uri: z.string().refine(
    (u) => {
      try {
        return ['ipp:', 'ipps:', 'http:', 'https:'].includes(new URL(u).protocol);
      } catch {
        return false;
      }
    },
    { error: 'expected an IPP address such as ipp://127.0.0.1:631/printers/receipt' },
  ),
  timeout: positiveDurationMs.default(5000),
});

const schema = uniqueList(printerSchema, 'device', (d) => `duplicate device "${d}"`);

const H = {
  state: 'IPP printer-state: 3 idle, 4 processing, 5 stopped.',
  reason: 'IPP printer-state-reasons present now (suffix -error/-warning/-report dropped); 1 per reason.',
  queued: 'Jobs not yet completed.',
  oldest: 'Seconds the oldest not-completed job has waited; 0 with an empty queue.',
  errors: 'Failed IPP exchanges with the printer (or CUPS) by reason.',
};

registerCollector({
  name: 'printer',
  configKey: 'printers',
  schema,
  defaultEnabled: (list) => list.length > 0,
  defaultIntervalSeconds: 30,
  defaultTimeoutSeconds: 15,
  create(list) {
    const devices: DeviceRef[] = list.map((p) => ({ device: p.device, kind: 'printer' }));
    const errors = new Map<string, Map<string, number>>(list.map((p) => [p.device, new Map()]));
    return {
      devices,
      async collect(ctx): Promise<CollectResult> {
        const fs = new FamilySet();
        const up: NonNullable<CollectResult['devices']> = [];
        await Promise.all(
          list.map(async (p) => {
            const counts = errors.get(p.device) as Map<string, number>;
            try {
              const st = await readPrinter({ uri: p.uri, timeoutMs: p.timeout, signal: ctx.signal });
              const l = { device: p.device };
              fs.add('till_printer_state', H.state, l, st.state);
              for (const reason of st.reasons)
                fs.add('till_printer_state_reason', H.reason, { device: p.device, reason }, 1);
              fs.add('till_printer_queued_jobs', H.queued, l, st.queuedJobs);
              fs.add('till_printer_oldest_job_age_seconds', H.oldest, l, st.oldestJobAgeSeconds);
              // Stopped (or unable to reach the device behind CUPS) is "not answering"; paper out is its own alert.
              up.push({
                device: p.device,
                kind: 'printer',
                up: st.state !== 5 && !st.reasons.includes('offline'),
              });
            } catch (err) {
              const e = toDriverError(err, 'parse');
              counts.set(e.reason, (counts.get(e.reason) ?? 0) + 1);
              ctx.logger.warn(
                { device: p.device, reason: e.reason, err: e.message },
                'printer did not answer over IPP',
              );
              up.push({ device: p.device, kind: 'printer', up: false });
            }
            for (const [reason, n] of counts)
              fs.add('till_printer_errors_total', H.errors, { device: p.device, reason }, n, 'counter');
          }),
        );
        return { families: fs.families(), devices: up };
      },
    };
  },
});
