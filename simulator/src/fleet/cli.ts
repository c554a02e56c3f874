// `tillwatch-simulator fleet`: parses the flags, runs the fleet, prints the ready line the stack
// script waits for, and stops everything on SIGINT/SIGTERM.
import pino from 'pino';
import { UsageError, parseCli, parseDuration } from '@tillwatch/config';
import { runFleet } from './run.js';

export const FLEET_USAGE = `usage: tillwatch-simulator fleet --inventory FILE [--scenario FILE] [--control-listen HOST:PORT]
                                 [--speed N] [--seed N] [--interval DURATION] [--log-level LEVEL]
  --inventory FILE        inventory (deploy/inventory/demo.yml): every till is served on its address
  --scenario FILE         timed faults and slow-burn conditions (simulator/scenarios/demo.yml)
  --control-listen ADDR   control API (default 127.0.0.1:9837)
  --speed N               simulated seconds per real second for the slow processes (default 1, or the scenario's)
  --seed N                seed of the per-till variation (default 1)
  --interval DURATION     collector interval of every till's exporter (default 5s)
  --log-level LEVEL       exporter logs on stderr: silent (default), error, warn, info
  -h, --help              print this help and exit`;

function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${name}: "${v}" is not a positive number`, FLEET_USAGE);
  return n;
}

export async function fleetCommand(argv: string[]): Promise<void> {
  const { values } = parseCli(
    argv,
    {
      inventory: { type: 'string' },
      scenario: { type: 'string' },
      'control-listen': { type: 'string' },
      speed: { type: 'string' },
      seed: { type: 'string' },
      interval: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    { usage: FLEET_USAGE },
  );
  if (values.help) {
    console.log(FLEET_USAGE);
    return;
  }
  if (!values.inventory) throw new UsageError('--inventory is required', FLEET_USAGE);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isInteger(seed))
    throw new UsageError(`--seed: "${values.seed}" is not an integer`, FLEET_USAGE);
  const intervalMs = values.interval === undefined ? undefined : parseDuration(values.interval);
  if (intervalMs === 0 || (values.interval !== undefined && intervalMs === undefined))
    throw new UsageError(`--interval: "${values.interval}" is not a duration such as "5s"`, FLEET_USAGE);
  const speed = positive('speed', values.speed);
  const level = values['log-level'] ?? 'silent';
  const running = await runFleet({
    inventory: values.inventory,
    ...(values.scenario && { scenario: values.scenario }),
    ...(values['control-listen'] && { controlListen: values['control-listen'] }),
    ...(speed !== undefined && { speed }),
    ...(seed !== undefined && { seed }),
    ...(intervalMs !== undefined && { intervalMs }),
    logger: pino({ level }, pino.destination(2)),
  });
  console.log(running.readyLine);
  const stop = () => {
    void running.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
