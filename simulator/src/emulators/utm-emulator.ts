// EGAIS UTM (HTTP, port 8080; docs/protocols/utm.md): /api/info/list, /info/version and the home page
// with the oldest unsent receipt. The page wording is modelled on public descriptions; the exporter's
// pattern for it is configurable (exporter/docs/fiscal.md).
import type { Express } from 'express';
import { z } from 'zod';
import { HttpEmulator, type HttpEmulatorOptions } from './http-emulator.js';

const ts = z.number().int().min(0);

export const utmStateSchema = z.strictObject({
  version: z.string().min(1),
  fsrarId: z.string().min(1),
  contour: z.string(),
  rsaExpiry: ts,
  gostExpiry: ts,
  unsentReceipts: z.number().int().min(0),
  oldestUnsentAt: ts.nullable(),
});
export type UtmState = z.infer<typeof utmStateSchema>;

export interface UtmEmulatorOptions extends HttpEmulatorOptions {
  state?: Partial<UtmState>;
}

export class UtmEmulator extends HttpEmulator<UtmState> {
  readonly kind = 'utm' as const;
  protected readonly stateSchema = utmStateSchema;

  constructor(opts: UtmEmulatorOptions = {}) {
    const nowS = Math.floor((opts.now ?? Date.now)() / 1000);
    super(
      opts,
      'utm',
      utmStateSchema.parse({
        version: '4.2.0',
        fsrarId: '030000123456',
        contour: 'prod',
        rsaExpiry: nowS + 200 * 86400,
        gostExpiry: nowS + 250 * 86400,
        unsentReceipts: 0,
        oldestUnsentAt: null,
        ...opts.state,
      }),
    );
  }

  protected routes(app: Express): void {
    app.get('/api/info/list', (_req, res) => {
      const s = this.state;
      res.json({
        contour: s.contour,
        version: s.version,
        db: { ownerId: s.fsrarId, createDate: this.local(s.rsaExpiry - 365 * 86400) },
        rsa: {
          certificate: 'MIIC...',
          isValid: String(s.rsaExpiry * 1000 > this.now()),
          startDate: this.local(s.rsaExpiry - 365 * 86400),
          expireDate: this.local(s.rsaExpiry),
        },
        gost: {
          certificate: 'MIIB...',
          isValid: String(s.gostExpiry * 1000 > this.now()),
          startDate: this.local(s.gostExpiry - 365 * 86400),
          expireDate: this.local(s.gostExpiry),
        },
      });
    });
    app.get('/info/version', (_req, res) => {
      res.type('text/plain').send(this.state.version);
    });
    app.get('/', (_req, res) => {
      const s = this.state;
      const unsent =
        s.unsentReceipts > 0 && s.oldestUnsentAt !== null
          ? `<p>Неотправленные чеки: ${s.unsentReceipts}. Дата самого старого неотправленного чека: ${this.local(s.oldestUnsentAt)}</p>`
          : '<p>Отсутствуют неотправленные чеки</p>';
      res.type('text/html; charset=utf-8').send(
        `<!doctype html><html><head><meta charset="utf-8"><title>УТМ</title></head><body>
<h1>Универсальный транспортный модуль ${s.version}</h1>
<p>ФСРАР ИД: ${s.fsrarId}</p>
<p>Сертификат RSA действителен по ${this.local(s.rsaExpiry)}</p>
<p>Сертификат ГОСТ действителен по ${this.local(s.gostExpiry)}</p>
${unsent}
</body></html>`,
      );
    });
  }
}
