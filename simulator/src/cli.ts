#!/usr/bin/env node
// tillwatch-simulator: device emulators for development and tests.
//   tillwatch-simulator devices [--config FILE] [--host H] [--shtrih-port N] [--shtrih-serial PATH]
//                               [--atol-port N] [--utm-port N] [--marking-port N] [--control-port N]
//   tillwatch-simulator fleet --inventory FILE [--scenario FILE] [--control-listen 127.0.0.1:9837]
//                             [--speed N] [--seed N] [--interval 5s]
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
import { loadDevicesConfig, startDevices } from './devices.js';
import { FLEET_USAGE, fleetCommand } from './fleet/cli.js';

const DEVICES_USAGE = `usage: tillwatch-simulator devices [--config FILE] [--host HOST] [--shtrih-port N] [--shtrih-serial PATH]
                                  [--atol-port N] [--utm-port N] [--marking-port N] [--control-port N]`;

const USAGE = `${DEVICES_USAGE}
       tillwatch-simulator fleet --inventory FILE [--scenario FILE] [--control-listen 127.0.0.1:9837]
                                 [--speed N] [--seed N] [--interval 5s]
       tillwatch-simulator [COMMAND] --help | --version`;

const COMMAND_USAGE: Record<string, string> = { devices: DEVICES_USAGE, fleet: FLEET_USAGE };

function portArg(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`--${name}: "${v}" is not a port number`, DEVICES_USAGE);
  return n;
}

async function devices(argv: string[]): Promise<void> {
  const { values } = parseCli(
    argv,
    {
      config: { type: 'string' },
      host: { type: 'string' },
      'shtrih-port': { type: 'string' },
      'shtrih-serial': { type: 'string' },
      'atol-port': { type: 'string' },
      'utm-port': { type: 'string' },
      'marking-port': { type: 'string' },
      'control-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    { usage: DEVICES_USAGE },
  );
  if (values.help) {
    console.log(DEVICES_USAGE);
    return;
  }
  const base: Record<string, Record<string, unknown> | string> = values.config
    ? (loadDevicesConfig(values.config) as unknown as Record<string, Record<string, unknown>>)
    : {};
  const cfg: Record<string, unknown> = { ...base };
  const set = (section: string, key: string, v: unknown) => {
    if (v === undefined) return;
    cfg[section] = { ...((cfg[section] as object) ?? {}), [key]: v };
  };
  if (values.host) cfg.host = values.host;
  set('shtrih', 'port', portArg('shtrih-port', values['shtrih-port']));
  set('shtrih', 'serial', values['shtrih-serial']);
  set('atol', 'port', portArg('atol-port', values['atol-port']));
  set('utm', 'port', portArg('utm-port', values['utm-port']));
  set('marking', 'port', portArg('marking-port', values['marking-port']));
  set('control', 'port', portArg('control-port', values['control-port']));
  const running = await startDevices(cfg);
  for (const e of running.registry.list()) console.log(`${e.kind.padEnd(8)} ${e.id.padEnd(12)} ${e.address}`);
  console.log(
    `control  ${running.control.url}  (GET /devices, PATCH /devices/:id/state, POST /devices/:id/faults)`,
  );
  const stop = () => {
    void running.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (wantsVersion(argv)) {
    process.stdout.write(
      versionText('tillwatch-simulator', packageVersion(new URL('../package.json', import.meta.url))),
    );
    return;
  }
  if (command === 'help') {
    console.log(
      rest[0] !== undefined && Object.hasOwn(COMMAND_USAGE, rest[0]) ? COMMAND_USAGE[rest[0]] : USAGE,
    );
    return;
  }
  if (command === 'devices') return devices(rest);
  if (command === 'fleet') return fleetCommand(rest);
  if (command === undefined) throw new UsageError('no command given');
  if (command.startsWith('-')) {
    if (wantsHelp([command])) return void console.log(USAGE);
    parseCli([command], { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } });
  }
  throw unknownCommand(command, [...Object.keys(COMMAND_USAGE), 'help']);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`tillwatch-simulator: ${err.message}\n${err.usage ?? USAGE}`);
    process.exitCode = USAGE_EXIT;
    return;
  }
  console.error(`tillwatch-simulator: ${(err as Error).message}`);
  process.exit(1);
});
