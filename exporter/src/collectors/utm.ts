// EGAIS UTM: certificate expiry, identity and the oldest unsent receipt.
// Metrics: docs/metrics.md, "EGAIS UTM". Options: exporter/docs/fiscal.md.
import { z } from 'zod';
import {
  registerCollector,
  type Collector,
  type CollectContext,
  type CollectResult,
  type DeviceRef,
} from '../collector.js';
import { FamilySet } from '../drivers/families.js';
import { UTM_DEFAULTS, readUtm } from '../drivers/utm/client.js';
import { positiveDurationMs } from '@tillwatch/config';

export const utmSchema = z
  .strictObject({
    url: z.url({
      protocol: /^https?$/,
      error: (iss) =>
        iss.input === undefined ? 'required' : 'expected an http:// URL such as http://127.0.0.1:8080',
    }),
    device: z.string().min(1).default('utm'),
    request_timeout: positiveDurationMs.default(5000),
    utc_offset_minutes: z.number().int().min(-720).max(840).optional(),
    no_unsent_text: z.string().min(1).default(UTM_DEFAULTS.noUnsentText),
    unsent_pattern: z
      .string()
      .default(UTM_DEFAULTS.unsentPattern)
      .refine(
        (p) => {
          try {
            new RegExp(p, 'iu');
            return true;
          } catch {
            return false;
          }
        },
        { error: 'not a valid regular expression' },
      ),
  })
  .optional();

export type UtmConfig = z.infer<typeof utmSchema>;

export class UtmCollector implements Collector {
  readonly devices: DeviceRef[];

  constructor(private readonly config: NonNullable<UtmConfig>) {
    this.devices = [{ device: config.device, kind: 'utm' }];
  }

  async collect(ctx: CollectContext): Promise<CollectResult> {
    const device = this.config.device;
    const fs = new FamilySet();
    try {
      const st = await readUtm(
        {
          url: this.config.url,
          timeoutMs: this.config.request_timeout,
          utcOffsetMinutes: this.config.utc_offset_minutes,
          noUnsentText: this.config.no_unsent_text,
          unsentPattern: this.config.unsent_pattern,
        },
        ctx.signal,
      );
      for (const w of st.warnings) ctx.logger.warn({ device }, `UTM: ${w}`);
      fs.add(
        'till_utm_info',
        'EGAIS UTM identity; constant 1.',
        { device, version: st.version, fsrar_id: st.fsrarId },
        1,
      );
      const cert = 'Expiry of the UTM key certificate, Unix seconds.';
      fs.add(
        'till_utm_certificate_expiry_timestamp_seconds',
        cert,
        { device, certificate: 'rsa' },
        st.rsaExpiry,
      );
      fs.add(
        'till_utm_certificate_expiry_timestamp_seconds',
        cert,
        { device, certificate: 'gost' },
        st.gostExpiry,
      );
      fs.add(
        'till_utm_oldest_unsent_receipt_timestamp_seconds',
        'Time of the oldest receipt not yet sent to EGAIS, Unix seconds.',
        { device },
        st.oldestUnsent,
      );
      return { families: fs.families(), devices: [{ device, kind: 'utm', up: true }] };
    } catch (err) {
      ctx.logger.warn({ device, err: (err as Error).message }, 'UTM not answering');
      return { families: [], devices: [{ device, kind: 'utm', up: false }] };
    }
  }
}

registerCollector({
  name: 'utm',
  configKey: 'utm',
  schema: utmSchema,
  defaultEnabled: (c: UtmConfig) => c !== undefined,
  defaultIntervalSeconds: 60,
  defaultTimeoutSeconds: 20,
  create: (config: UtmConfig) => {
    if (!config) throw new Error('utm: the collector is enabled but the utm section (url) is missing');
    return new UtmCollector(config);
  },
});
