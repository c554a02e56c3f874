#!/usr/bin/env node
// A Telegram Bot API emulator (NOT Telegram) for the demo stack and its end-to-end test: the bridge sends
// to it what it would send to api.telegram.org. It answers POST /bot<token>/sendMessage like the real API
// for the parts the bridge relies on (known token, chat_id, text, HTML entities) and lists what it received
// at GET /messages, so a person opening the stack and a test read the same thing.
// Usage: telegram-emulator --listen 127.0.0.1:9838 --token TOKEN
import express from 'express';
import { parseArgs } from 'node:util';
import { parseListen } from './args.js';

export interface TelegramMessage {
  message_id: number;
  chat_id: string;
  text: string;
  parse_mode?: string;
  received_at: string;
}

export function telegramEmulatorApp(token: string) {
  const messages: TelegramMessage[] = [];
  const app = express();
  app.use(express.json());
  app.post('/bot:token/sendMessage', (req, res) => {
    if (req.params.token !== token) {
      res.status(401).json({ ok: false, error_code: 401, description: 'Unauthorized' });
      return;
    }
    const b = (req.body ?? {}) as { chat_id?: string | number; text?: string; parse_mode?: string };
    if (b.chat_id === undefined || !b.text) {
      res.status(400).json({ ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
      return;
    }
    // Telegram refuses HTML outside its small tag set; an emulator that accepted it would hide a bug.
    if (b.parse_mode === 'HTML' && /<(?!\/?(b|i|a|code|pre|u|s|strong|em)\b)[^>]*>/.test(b.text)) {
      res.status(400).json({ ok: false, error_code: 400, description: "Bad Request: can't parse entities" });
      return;
    }
    const m: TelegramMessage = {
      message_id: messages.length + 1,
      chat_id: String(b.chat_id),
      text: b.text,
      ...(b.parse_mode ? { parse_mode: b.parse_mode } : {}),
      received_at: new Date().toISOString(),
    };
    messages.push(m);
    res.json({ ok: true, result: { message_id: m.message_id, chat: { id: b.chat_id }, text: b.text } });
  });
  app.get('/messages', (_req, res) => {
    res.json({ emulator: 'Telegram Bot API emulator', messages });
  });
  app.get('/', (_req, res) => {
    res.redirect('/messages');
  });
  return { app, messages };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { listen: { type: 'string' }, token: { type: 'string' } } });
  const { host, port } = parseListen('--listen', values.listen ?? '127.0.0.1:9838');
  if (!values.token) {
    throw new Error('--token is required (the bot token the bridge is configured with)');
  }
  const { app } = telegramEmulatorApp(values.token);
  const server = app.listen(port, host, () => {
    console.log(`Telegram Bot API emulator on http://${host}:${port} (messages: GET /messages)`);
  });
  server.on('error', (e) => {
    console.error(`telegram-emulator: cannot listen on ${host}:${port}: ${e.message}`);
    process.exit(1);
  });
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`telegram-emulator: ${(e as Error).message}`);
  process.exit(2);
});
