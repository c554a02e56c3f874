#!/usr/bin/env node
// The Telegram Bot API emulator (NOT Telegram) for the demo stack and its end-to-end test: the bridge sends
// to it what it would send to api.telegram.org and polls it for button presses and replies. It is the test
// kit's emulator (telegram-test-api behind a front that checks what Telegram checks), and lists what the bot
// sent, as edited since, at GET /messages, so a person opening the stack and a test read the same thing.
// Usage: telegram-emulator --listen 127.0.0.1:9838 --token TOKEN
import { parseArgs } from 'node:util';
import { startTelegramEmulator } from '@tillwatch/testkit/telegram';
import { parseListen } from './args.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { listen: { type: 'string' }, token: { type: 'string' } } });
  const { host, port } = parseListen('--listen', values.listen ?? '127.0.0.1:9838');
  if (!values.token) {
    throw new Error('--token is required (the bot token the bridge is configured with)');
  }
  const emulator = await startTelegramEmulator(values.token, { host, port }).catch((e: Error) => {
    throw new Error(`cannot listen on ${host}:${port}: ${e.message}`);
  });
  console.log(`Telegram Bot API emulator on ${emulator.url} (messages: GET /messages)`);
  const stop = () => void emulator.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`telegram-emulator: ${(e as Error).message}`);
  process.exit(2);
});
