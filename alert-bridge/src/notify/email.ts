import nodemailer from 'nodemailer';
import type { Config } from '../config.js';
import { DeliveryError, type Sender } from '../delivery/sender.js';
import type { Locale } from '../knowledge-base.js';
import { emailMessage, type TicketLink } from './render.js';

export function emailSender(
  cfg: NonNullable<Config['email']>,
  locale: Locale,
  publicUrl: string,
  timeoutMs: number,
  ticketLink?: TicketLink,
): Sender<{ kind: 'email'; to: readonly string[] }> & { close(): void } {
  const transport = nodemailer.createTransport({
    host: cfg.smtp.host,
    port: cfg.smtp.port,
    secure: cfg.smtp.secure,
    ignoreTLS: cfg.smtp.ignore_tls,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    ...(cfg.smtp.username
      ? { auth: { user: cfg.smtp.username, pass: cfg.smtp.password?.reveal() ?? '' } }
      : {}),
  });
  return {
    kind: 'email',
    batch: true,
    async deliver(target, events, more) {
      const to = [...target.to];
      const { subject, text } = emailMessage(events, more, locale, publicUrl, ticketLink);
      try {
        await transport.sendMail({ from: cfg.from, to, subject, text });
      } catch (e) {
        const code = (e as { responseCode?: number }).responseCode;
        // 5xx SMTP replies (bad recipient, rejected) will not change on retry; 4xx and network faults may.
        throw new DeliveryError(`email: ${(e as Error).message}`, code !== undefined && code >= 500);
      }
    },
    close: () => transport.close(),
  };
}
