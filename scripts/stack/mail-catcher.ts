#!/usr/bin/env node
// A local SMTP catcher for the demo stack and its end-to-end test: accepts every mail on loopback
// (smtp-server, no auth, no TLS) and lists them at GET /messages over HTTP. Nothing is delivered anywhere.
// Usage: mail-catcher --smtp 127.0.0.1:2525 --http 127.0.0.1:9839
import express from 'express';
import { parseArgs } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { parseListen } from './args.js';

export interface CaughtMail {
  id: number;
  from: string;
  to: string[];
  subject: string;
  /** The body decoded from its transfer encoding (single-part text, which is what the bridge sends). */
  text: string;
  /** The raw message (headers and body as sent). */
  raw: string;
  received_at: string;
}

function header(raw: string, name: string): string {
  // Unfold continuation lines first (RFC 5322 §2.2.3), then decode RFC 2047 encoded words of the subject.
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  const value = line?.slice(name.length + 1).trim() ?? '';
  return value.replace(
    /=\?([^?]+)\?([BbQq])\?([^?]*)\?=\s*/g,
    (_m, _cs: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text
              .replace(/_/g, ' ')
              .replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8'),
  );
}

// Hand-written rather than a MIME parser dependency: the bridge sends one text/plain part, so undoing
// base64 or quoted-printable (RFC 2045 §6.7-6.8) is all a reader needs.
function bodyText(raw: string): string {
  const at = raw.search(/\r?\n\r?\n/);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const enc = header(raw, 'Content-Transfer-Encoding').toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') {
    const bytes = body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

// Hand-written: five characters to escape do not justify a dependency.
const escapeHtml = (t: string) =>
  t.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** GET /messages in a browser: every caught mail, newest first, with its decoded text. */
function mailsPage(mails: CaughtMail[]): string {
  const items = [...mails]
    .reverse()
    .map(
      (
        m,
      ) => `<li id="m${m.id}"><div class="meta">#${m.id} · ${escapeHtml(m.received_at.replace('T', ' ').slice(0, 19))} UTC</div>
<div><b>From:</b> ${escapeHtml(m.from)}<br><b>To:</b> ${escapeHtml(m.to.join(', '))}<br><b>Subject:</b> ${escapeHtml(m.subject)}</div>
<pre>${escapeHtml(m.text)}</pre></li>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<title>SMTP catcher: ${mails.length} mails</title>
<style>body{font:15px/1.4 system-ui,sans-serif;margin:1.5em;max-width:60em}ol{padding-left:0}
li{margin:.8em 0;padding:.6em .9em;background:#f4f4f0;border-radius:.5em;list-style:none}
.meta{color:#555;font-size:12px}pre{white-space:pre-wrap;font:inherit;margin:.5em 0 0}</style>
</head><body><h1>SMTP catcher</h1>
<p>The e-mails the bridge sent, newest first; refreshed every 10 s. Nothing is delivered anywhere. The same
list as JSON (with the raw messages): <code>curl -H 'accept: application/json' …/messages</code>.</p>
${items ? `<ol>${items}</ol>` : '<p>No mail yet: inject a fault (README, Quick start) and wait about 20 s.</p>'}
</body></html>
`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { smtp: { type: 'string' }, http: { type: 'string' } } });
  const smtp = parseListen('--smtp', values.smtp ?? '127.0.0.1:2525');
  const http = parseListen('--http', values.http ?? '127.0.0.1:9839');
  const mails: CaughtMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        mails.push({
          id: mails.length + 1,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: header(raw, 'Subject'),
          text: bodyText(raw),
          raw,
          received_at: new Date().toISOString(),
        });
        callback();
      });
    },
  });
  server.on('error', (e) => console.error(`mail-catcher: SMTP: ${e.message}`));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(smtp.port, smtp.host, () => resolve());
  }).catch((e: Error) => {
    throw new Error(`cannot listen for SMTP on ${smtp.host}:${smtp.port}: ${e.message}`);
  });
  const app = express();
  app.get('/messages', (req, res) => {
    // A browser (Accept: text/html first) gets the mails as a person reads them, bodies decoded; fetch
    // (Accept: */*) or `curl -H 'accept: application/json'` gets the JSON the tests read.
    if (req.accepts(['json', 'html']) === 'html') {
      res.type('html').send(mailsPage(mails));
      return;
    }
    res.json({ catcher: 'SMTP catcher', messages: mails });
  });
  app.get('/', (_req, res) => {
    res.redirect('/messages');
  });
  const web = app.listen(http.port, http.host, () => {
    console.log(
      `SMTP catcher on ${smtp.host}:${smtp.port}, mails at http://${http.host}:${http.port}/messages`,
    );
  });
  web.on('error', (e) => {
    console.error(`mail-catcher: cannot listen on ${http.host}:${http.port}: ${e.message}`);
    process.exit(1);
  });
  const stop = () => {
    web.close();
    server.close(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`mail-catcher: ${(e as Error).message}`);
  process.exit(1);
});
