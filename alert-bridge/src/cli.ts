#!/usr/bin/env node
import { text } from 'node:stream/consumers';
import { parseArgs } from 'node:util';
import bcrypt from 'bcryptjs';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

const USAGE =
  'usage: tillwatch-bridge --config FILE [--listen HOST:PORT]\n' +
  '       tillwatch-bridge hash-password < password   (prints a bcrypt hash for auth.users[].password_hash)';

/** Reads a password from stdin (never from argv, which other users of the machine can see). */
async function hashPassword(): Promise<number> {
  const pw = (await text(process.stdin)).replace(/\r?\n$/, '');
  if (pw.length < 8) {
    console.error('hash-password: the password must be at least 8 characters');
    return 2;
  }
  console.log(await bcrypt.hash(pw, 12));
  return 0;
}

async function main(): Promise<number> {
  if (process.argv[2] === 'hash-password') return hashPassword();
  let args;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string' },
        listen: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (!args.config) {
    console.error(`--config is required\n${USAGE}`);
    return 2;
  }
  let bridge;
  try {
    const config = loadConfig(args.config);
    bridge = await createApp(config);
    await bridge.start(args.listen ?? config.listen);
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : `cannot start: ${(e as Error).message}`);
    return 1;
  }
  const b = bridge;
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  b.logger.info('stopping');
  await b.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
