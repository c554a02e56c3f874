#!/usr/bin/env node
// `tillwatch`: operator commands. main() takes argv and streams so tests run it in-process.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  USAGE_EXIT,
  UsageError,
  packageVersion,
  parseCli,
  unknownCommand,
  unknownOption,
  versionText,
  wantsHelp,
  wantsVersion,
} from '@tillwatch/config';
import { InventoryError, iterateTills, loadInventory } from '@tillwatch/inventory';
import { writeFileSd } from './file-sd.js';
import { DEMO_DEFAULTS, generateDemoInventory, renderInventory } from '@tillwatch/inventory';
import { writeFileAtomic } from './write-atomic.js';
import { writeStoreAgents } from './agents/agents.js';
import { renderMinVersionRules } from './min-versions.js';
import { BACKTEST_USAGE, backtestCommand } from './backtest/command.js';
import { FORECAST_USAGE, forecastCommand } from './forecast/command.js';
import { REPORT_USAGE, reportCommand } from './report/command.js';
import { createCalendarServer, parseListen } from './calendar/server.js';

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Whether `err` is a terminal (backtest then shows progress without --progress). */
  errIsTTY?: boolean;
  /** The environment and working directory (default: the process's), given by tests that run main in-process. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Usage of each inventory command, for `tillwatch inventory COMMAND --help` and its usage errors. */
const INVENTORY_USAGE: Record<string, string> = {
  check: '  tillwatch inventory check FILE',
  targets: '  tillwatch inventory targets --inventory FILE --out DIR [--name tills.json]',
  agents: `  tillwatch inventory agents --inventory FILE --out DIR --remote-write URL [--scrape-interval 10s] [--data-dir DIR] [--drop-metrics REGEX]
      [--exporter-ca-file FILE [--exporter-username NAME --exporter-password-file FILE]]`,
  'min-versions': '  tillwatch inventory min-versions --inventory FILE --out FILE',
  demo: '  tillwatch inventory demo [--stores 50] [--tills-per-store 2..3] [--base-port 19100] [--host 127.0.0.1] [--out FILE]',
};

/** Usage of each calendar command. */
const CALENDAR_USAGE: Record<string, string> = {
  serve: '  tillwatch calendar serve --inventory FILE [--listen 127.0.0.1:9841]',
};

/** The commands that take a second word, with the usage of each. */
const GROUPS: Record<string, Record<string, string>> = {
  inventory: INVENTORY_USAGE,
  calendar: CALENDAR_USAGE,
};

/** The commands' usage, by first word: what `tillwatch COMMAND --help` prints and a usage error shows. */
const COMMAND_USAGE: Record<string, string> = {
  inventory: `usage:\n${Object.values(INVENTORY_USAGE).join('\n')}`,
  calendar: `usage:\n${Object.values(CALENDAR_USAGE).join('\n')}`,
  backtest: BACKTEST_USAGE,
  forecast: FORECAST_USAGE,
  report: REPORT_USAGE,
};

const USAGE = `usage:
${Object.values(COMMAND_USAGE)
  .map((u) => u.replace(/^usage:\n/, ''))
  .join('\n')}
  tillwatch help [COMMAND]   (or COMMAND --help, -h): a command's usage
  tillwatch --version`;

/** The usage of the command `args` names (its first one or two words), else every command's. */
function usageOf(args: string[]): string {
  const [group, command] = args;
  const sub = group !== undefined && Object.hasOwn(GROUPS, group) ? GROUPS[group]! : undefined;
  if (sub && command !== undefined && Object.hasOwn(sub, command)) return `usage:\n${sub[command]}`;
  return group !== undefined && Object.hasOwn(COMMAND_USAGE, group) ? COMMAND_USAGE[group]! : USAGE;
}

export const VERSION = packageVersion(new URL('../package.json', import.meta.url));

function intOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name}: expected a whole number, got "${value}"`);
  return Number(value);
}

function rangeOption(value: string | undefined, fallback: { min: number; max: number }) {
  if (value === undefined) return fallback;
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(value);
  if (!m) throw new UsageError(`--tills-per-store: expected N or MIN..MAX, got "${value}"`);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (min < 1 || max < min)
    throw new UsageError(`--tills-per-store: expected 1 <= MIN <= MAX, got "${value}"`);
  return { min, max };
}

async function run(args: string[], io: Io): Promise<number> {
  if (args.length === 0) throw new UsageError('no command given');
  if (wantsVersion(args)) {
    io.out(versionText('tillwatch', VERSION).trimEnd());
    return 0;
  }
  if (args[0] === 'help') {
    io.out(usageOf(args.slice(1)));
    return 0;
  }
  if (wantsHelp(args)) {
    io.out(args[0]?.startsWith('-') ? USAGE : usageOf(args));
    return 0;
  }
  if (args[0] === 'backtest') return backtestCommand(args.slice(1), io);
  if (args[0] === 'forecast') return forecastCommand(args.slice(1), io);
  if (args[0] === 'report') return reportCommand(args.slice(1), io);
  const [group, command, ...rest] = args;
  if (group!.startsWith('-'))
    throw new UsageError(
      unknownOption([group!], { help: { type: 'boolean' }, version: { type: 'boolean' } })!,
    );
  if (!Object.hasOwn(GROUPS, group!)) throw unknownCommand(group!, [...Object.keys(COMMAND_USAGE), 'help']);
  const sub = GROUPS[group!]!;
  if (command === undefined || !Object.hasOwn(sub, command))
    throw unknownCommand(
      args.slice(0, 2).join(' '),
      Object.keys(sub).map((c) => `${group} ${c}`),
    );
  const { values, positionals } = parseCli(
    rest,
    {
      inventory: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      stores: { type: 'string' },
      'tills-per-store': { type: 'string' },
      'base-port': { type: 'string' },
      host: { type: 'string' },
      'remote-write': { type: 'string' },
      'scrape-interval': { type: 'string' },
      'data-dir': { type: 'string' },
      'drop-metrics': { type: 'string' },
      'exporter-ca-file': { type: 'string' },
      'exporter-username': { type: 'string' },
      'exporter-password-file': { type: 'string' },
      listen: { type: 'string' },
    },
    { allowPositionals: true },
  );
  const need = (v: string | undefined, flag: string): string => {
    if (v === undefined || v === '') throw new UsageError(`${group} ${command}: ${flag} is required`);
    return v;
  };
  switch (`${group} ${command}`) {
    case 'inventory check': {
      const file = need(positionals[0] ?? values.inventory, 'FILE');
      const inv = loadInventory(file);
      const tills = [...iterateTills(inv)];
      const stores = new Set(tills.map((t) => t.store.id)).size;
      io.out(`${file}: ok: ${inv.chains.length} chains, ${stores} stores, ${tills.length} tills`);
      return 0;
    }
    case 'inventory targets': {
      const inv = loadInventory(need(values.inventory, '--inventory'));
      const { path, targets } = writeFileSd(inv, need(values.out, '--out'), values.name);
      io.out(`wrote ${targets} targets to ${path}`);
      return 0;
    }
    case 'inventory agents': {
      const inv = loadInventory(need(values.inventory, '--inventory'));
      const out = need(values.out, '--out');
      if (values['exporter-ca-file'] === undefined && values['exporter-username'] !== undefined)
        throw new UsageError(
          'inventory agents: --exporter-username needs --exporter-ca-file (basic auth goes only over TLS)',
        );
      const n = writeStoreAgents(inv, out, {
        remoteWriteUrl: need(values['remote-write'], '--remote-write'),
        scrapeInterval: values['scrape-interval'],
        dataDir: values['data-dir'],
        dropMetrics: values['drop-metrics'],
        ...(values['exporter-ca-file'] !== undefined && {
          exporterAuth: {
            caFile: values['exporter-ca-file'],
            ...(values['exporter-username'] !== undefined && { username: values['exporter-username'] }),
            ...(values['exporter-password-file'] !== undefined && {
              passwordFile: values['exporter-password-file'],
            }),
          },
        }),
      });

      io.out(`wrote vmagent and Prometheus agent configs for ${n} stores to ${out}`);
      return 0;
    }
    case 'inventory min-versions': {
      const inv = loadInventory(need(values.inventory, '--inventory'));
      const out = need(values.out, '--out');
      writeFileAtomic(out, renderMinVersionRules(inv));
      const n = inv.chains.reduce((a, c) => a + Object.keys(c.min_versions ?? {}).length, 0);
      io.out(`wrote ${n} minimum versions to ${out}`);
      return 0;
    }
    case 'calendar serve': {
      // Serves until the process is stopped (SIGTERM/SIGINT close the listener).
      const inv = loadInventory(need(values.inventory, '--inventory'));
      const listen = parseListen(values.listen ?? '127.0.0.1:9841');
      const { server, stores } = createCalendarServer(inv);
      await new Promise<void>((ok, fail) => {
        server.once('error', fail);
        server.listen(listen.port, listen.host, () => ok());
      });
      const a = server.address();
      const where = typeof a === 'object' && a !== null ? `${listen.host}:${a.port}` : values.listen;
      io.out(`calendar ready: ${stores} stores with a calendar at http://${where}/metrics`);
      await new Promise<void>((ok) => {
        const stop = () => server.close(() => ok());
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      return 0;
    }
    case 'inventory demo': {
      const opts = {
        stores: intOption('stores', values.stores, DEMO_DEFAULTS.stores),
        tillsPerStore: rangeOption(values['tills-per-store'], DEMO_DEFAULTS.tillsPerStore),
        basePort: intOption('base-port', values['base-port'], DEMO_DEFAULTS.basePort),
        host: values.host ?? DEMO_DEFAULTS.host,
      };
      const inv = generateDemoInventory(opts);
      // The header names every option, so the file says how to regenerate it exactly.
      const { min, max } = opts.tillsPerStore;
      const cmd = `tillwatch inventory demo --stores ${opts.stores} --tills-per-store ${min}..${max} --base-port ${opts.basePort} --host ${opts.host}`;
      const text = renderInventory(inv, ` Generated by \`${cmd}\`. Edit the generator, not this file.`);
      if (values.out === undefined) io.out(text.trimEnd());
      else {
        writeFileAtomic(values.out, text);
        io.out(`wrote ${[...iterateTills(inv)].length} tills to ${values.out}`);
      }
      return 0;
    }
    default:
      throw unknownCommand(args.join(' '), []);
  }
}

export async function main(
  args: string[],
  io: Io = { out: console.log, err: console.error, errIsTTY: process.stderr.isTTY },
): Promise<number> {
  try {
    return await run(args, io);
  } catch (err) {
    if (err instanceof InventoryError) {
      io.err(err.message);
      return 1;
    }
    // CommandUsageError is a UsageError; parseArgs' own errors are turned into them by parseCli.
    if (err instanceof UsageError) {
      io.err(`${err.message}\n${err.usage ?? usageOf(args)}`);
      return USAGE_EXIT;
    }
    io.err(`error: ${(err as Error).message}`);
    return 1;
  }
}

// Run only as the bin, not when a test imports main().
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
