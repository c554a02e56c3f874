#!/usr/bin/env node
import { text } from 'node:stream/consumers';
import bcrypt from 'bcryptjs';
import {
  USAGE_EXIT,
  UsageError,
  packageVersion,
  parseCli,
  unknownCommand,
  versionText,
  wantsHelp,
  wantsVersion,
} from '@tillwatch/config';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

const USAGE = `usage: tillwatch-bridge --config FILE [--web.listen-address HOST:PORT]   (--listen is the same)
       tillwatch-bridge hash-password < password   (prints a bcrypt hash for auth.users[].password_hash)
       tillwatch-bridge [COMMAND] --help | --version`;

const HASH_PASSWORD_USAGE = `usage: tillwatch-bridge hash-password < password
  Reads one password on stdin (at least 8 characters; never on the command line, which other users of
  the machine can see) and prints its bcrypt hash for auth.users[].password_hash in the bridge config.`;

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

/** The options, or the exit status when the command line was answered (help, version) or wrong. */
async function parse(argv: string[]): Promise<{ config: string; listen?: string } | number> {
  const [first, ...rest] = argv;
  if (wantsVersion(argv)) {
    process.stdout.write(
      versionText('tillwatch-bridge', packageVersion(new URL('../package.json', import.meta.url))),
    );
    return 0;
  }
  if (first === 'hash-password') {
    if (wantsHelp(rest)) {
      console.log(HASH_PASSWORD_USAGE);
      return 0;
    }
    parseCli(rest, {}, { usage: HASH_PASSWORD_USAGE });
    return hashPassword();
  }
  if (first === 'help') {
    console.log(rest[0] === 'hash-password' ? HASH_PASSWORD_USAGE : USAGE);
    return 0;
  }
  if (first !== undefined && !first.startsWith('-')) throw unknownCommand(first, ['hash-password', 'help']);
  if (wantsHelp(argv)) {
    console.log(USAGE);
    return 0;
  }
  const { values } = parseCli(argv, {
    config: { type: 'string' },
    // node_exporter's name, as the exporter's; --listen, the older one, stays for existing units.
    'web.listen-address': { type: 'string' },
    listen: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
  });
  if (!values.config) throw new UsageError('--config is required');
  if (values.listen !== undefined && values['web.listen-address'] !== undefined)
    throw new UsageError('--listen and --web.listen-address name the same setting: give one');
  const listen = values['web.listen-address'] ?? values.listen;
  return { config: values.config, ...(listen !== undefined && { listen }) };
}

async function main(): Promise<number> {
  let args;
  try {
    args = await parse(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n${e.usage ?? USAGE}`);
    return USAGE_EXIT;
  }
  if (typeof args === 'number') return args;
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
