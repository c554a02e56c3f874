import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

export interface TelegramMessage {
  token: string;
  chat_id: string;
  text: string;
  parse_mode?: string;
}

/**
 * A Telegram Bot API emulator (not Telegram): implements POST /bot<token>/sendMessage on loopback,
 * validates what the real API validates that matters here (known token, chat_id, text, HTML tags),
 * records the messages, and can answer 429 with retry_after like the real API under flood control.
 */
export async function startTelegramEmulator(token: string) {
  const messages: TelegramMessage[] = [];
  const state = { tooMany: 0 };
  const app = express();
  app.use(express.json());
  app.post('/bot:token/sendMessage', (req, res) => {
    if (req.params.token !== token) return res.status(401).json({ ok: false, error_code: 401, description: 'Unauthorized' });
    if (state.tooMany > 0) {
      state.tooMany--;
      return res.status(429).json({ ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
    }
    const b = req.body as Partial<TelegramMessage>;
    if (!b.chat_id || !b.text) return res.status(400).json({ ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
    if (b.parse_mode === 'HTML' && /<(?!\/?(b|i|a|code|pre|u|s)\b)[^>]*>/.test(b.text)) {
      return res.status(400).json({ ok: false, error_code: 400, description: "Bad Request: can't parse entities" });
    }
    messages.push({ token: req.params.token, chat_id: String(b.chat_id), text: b.text, ...(b.parse_mode ? { parse_mode: b.parse_mode } : {}) });
    res.json({ ok: true, result: { message_id: messages.length, chat: { id: b.chat_id }, text: b.text } });
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    messages,
    state,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
