// Честный знак local module (HTTP, port 5995; docs/protocols/marking.md): GET /api/v1/status with Basic auth.
import type { Express } from 'express';
import { z } from 'zod';
import { HttpEmulator, type HttpEmulatorOptions } from './http-emulator.js';

export const markingStateSchema = z.strictObject({
  /** Free text so an unknown status can be sent too; known: ready, initialization, sync_error, not_configured, enisey_off-line. */
  status: z.string().min(1),
  operationMode: z.enum(['active', 'service']),
  /** Unix seconds (sent as milliseconds, as the module does); null = never. */
  lastSync: z.number().int().min(0).nullable(),
  requiresDownload: z.boolean(),
  version: z.string().min(1),
  dbVersion: z.string(),
});
export type MarkingState = z.infer<typeof markingStateSchema>;

export interface MarkingEmulatorOptions extends HttpEmulatorOptions {
  state?: Partial<MarkingState>;
  username?: string;
  password?: string;
}

export class MarkingEmulator extends HttpEmulator<MarkingState> {
  readonly kind = 'marking' as const;
  protected readonly stateSchema = markingStateSchema;

  constructor(private readonly markingOpts: MarkingEmulatorOptions = {}) {
    const nowS = Math.floor((markingOpts.now ?? Date.now)() / 1000);
    super(
      markingOpts,
      'marking',
      markingStateSchema.parse({
        status: 'ready',
        operationMode: 'active',
        lastSync: nowS - 600,
        requiresDownload: false,
        version: '1.4.2',
        dbVersion: '2026.11.01',
        ...markingOpts.state,
      }),
    );
  }

  protected routes(app: Express): void {
    app.get('/api/v1/status', (req, res) => {
      const user = this.markingOpts.username ?? 'admin';
      const pass = this.markingOpts.password ?? 'admin';
      if (req.headers.authorization !== `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`) {
        res.status(401).set('www-authenticate', 'Basic realm="lm"').json({ error: 'unauthorized' });
        return;
      }
      const s = this.state;
      res.json({
        status: s.status,
        operationMode: s.operationMode,
        lastSync: s.lastSync === null ? 0 : s.lastSync * 1000,
        version: s.version,
        requiresDownload: s.requiresDownload,
        lastUpdate: (s.lastSync ?? 0) * 1000,
        dbVersion: s.dbVersion,
        inst: 'tillwatch-simulator',
      });
    });
  }
}
