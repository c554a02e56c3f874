// Честный знак local module: status, last synchronisation, database download flag.
// Metrics: docs/metrics.md, "Честный знак local module". Options: exporter/docs/fiscal.md.
import { z } from 'zod';
import {
  registerCollector,
  type Collector,
  type CollectContext,
  type CollectResult,
  type DeviceRef,
} from '../collector.js';
import { FamilySet } from '../drivers/families.js';
import { MARKING_STATUSES, readMarking } from '../drivers/marking/client.js';
import { positiveDurationMs } from '@tillwatch/config';

export const markingSchema = z
  .strictObject({
    url: z.url({
      protocol: /^https?$/,
      error: (iss) =>
        iss.input === undefined ? 'required' : 'expected an http:// URL such as http://127.0.0.1:5995',
    }),
    username: z.string().default('admin'),
    password: z.string().default('admin'),
    device: z.string().min(1).default('marking'),
    request_timeout: positiveDurationMs.default(5000),
  })
  .optional();

export type MarkingConfig = z.infer<typeof markingSchema>;

export class MarkingCollector implements Collector {
  readonly devices: DeviceRef[];

  constructor(private readonly config: NonNullable<MarkingConfig>) {
    this.devices = [{ device: config.device, kind: 'marking' }];
  }

  async collect(ctx: CollectContext): Promise<CollectResult> {
    const device = this.config.device;
    const fs = new FamilySet();
    try {
      const st = await readMarking(
        {
          url: this.config.url,
          username: this.config.username,
          password: this.config.password,
          timeoutMs: this.config.request_timeout,
        },
        ctx.signal,
      );
      if (st.status === 'unknown')
        ctx.logger.warn({ device, status: st.rawStatus }, 'marking module: unknown status');
      fs.add(
        'till_marking_info',
        'Честный знак local module version; constant 1.',
        { device, version: st.version },
        1,
      );
      for (const s of MARKING_STATUSES) {
        fs.add(
          'till_marking_status',
          'State set: 1 for the current status of the module.',
          { device, status: s },
          s === st.status,
        );
      }
      fs.add(
        'till_marking_last_sync_timestamp_seconds',
        'Last synchronisation, Unix seconds.',
        { device },
        st.lastSync,
      );
      fs.add(
        'till_marking_requires_download',
        '1 = the module requires a database download.',
        { device },
        st.requiresDownload,
      );
      return { families: fs.families(), devices: [{ device, kind: 'marking', up: true }] };
    } catch (err) {
      ctx.logger.warn({ device, err: (err as Error).message }, 'marking module not answering');
      return { families: [], devices: [{ device, kind: 'marking', up: false }] };
    }
  }
}

registerCollector({
  name: 'marking',
  configKey: 'marking',
  schema: markingSchema,
  defaultEnabled: (c: MarkingConfig) => c !== undefined,
  defaultIntervalSeconds: 60,
  defaultTimeoutSeconds: 20,
  create: (config: MarkingConfig) => {
    if (!config)
      throw new Error('marking: the collector is enabled but the marking section (url) is missing');
    return new MarkingCollector(config);
  },
});
