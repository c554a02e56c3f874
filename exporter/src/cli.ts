#!/usr/bin/env -S node --max-semi-space-size=1 --no-opt --no-maglev
// tillwatch-exporter --config FILE [--web.listen-address=:9835 ...] [--web.config.file=FILE]
//                    [--web.telemetry-path=/metrics] [--collector.<name>|--no-collector.<name>]
//                    [--log.level=info] [--log.format=logfmt]
// Flags are named as node_exporter's, so an operator's habits and tooling carry over.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { unknownOption, versionText, wantsHelp } from '@tillwatch/config';
import {
  ConfigError,
  createExporter,
  DEFAULT_LISTEN_ADDRESS,
  DEFAULT_TELEMETRY_PATH,
  loadConfig,
  loadWebConfig,
  registeredCollectors,
  REVISION,
  startWebServer,
  VERSION,
} from './index.js';
import { logfmtStream } from './logfmt.js';
import { isoTime } from './utc-time.js';

function usage(): string {
  const names = registeredCollectors()
    .map((d) => d.name)
    .sort();
  return `Usage: tillwatch-exporter --config FILE [options]

Prometheus exporter for a retail till: fiscal registrar, peripherals, network, software and system.

  --config FILE                 exporter config (YAML), required
  --web.listen-address ADDR     [host]:port to listen on; repeat for several (default ${DEFAULT_LISTEN_ADDRESS})
  --web.config.file FILE        exporter-toolkit web config: TLS, basic auth, headers, rate limit
  --web.telemetry-path PATH     path of the metrics (default ${DEFAULT_TELEMETRY_PATH})
  --collector.NAME              enable a collector
  --no-collector.NAME           disable a collector
  --log.level LEVEL             debug, info, warn, error (default info)
  --log.format FORMAT           logfmt or json (default logfmt), on stderr
  --version                     print the version and exit
  -h, --help                    print this help and exit

Collectors: ${names.join(', ')}
Signals: SIGHUP re-reads the web config (the exporter config needs a restart).
`;
}

type Options = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

async function main(argv: string[]): Promise<number> {
  const defs = registeredCollectors();
  const options: Options = {
    config: { type: 'string' },
    'web.listen-address': { type: 'string', multiple: true },
    'web.config.file': { type: 'string' },
    'web.telemetry-path': { type: 'string' },
    'log.level': { type: 'string' },
    'log.format': { type: 'string' },
    version: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const d of defs) {
    options[`collector.${d.name}`] = { type: 'boolean' };
    options[`no-collector.${d.name}`] = { type: 'boolean' };
  }
  const fail = (message: string) => {
    process.stderr.write(`tillwatch-exporter: ${message}\nSee tillwatch-exporter --help.\n`);
    return 2;
  };
  // Help first, so `--help` next to a mistyped flag still answers.
  if (wantsHelp(argv)) {
    process.stdout.write(usage());
    return 0;
  }
  // A mistyped flag is named with the one meant (node:util's parseArgs only says "Unknown option").
  const unknown = unknownOption(argv, options, 'flag');
  if (unknown) return fail(unknown);
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, allowPositionals: false, strict: true }));
  } catch (err) {
    return fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(usage());
    return 0;
  }
  if (values.version) {
    process.stdout.write(versionText('tillwatch-exporter', VERSION, REVISION));
    return 0;
  }
  if (typeof values.config !== 'string') return fail('--config is required');
  const flags: Record<string, boolean> = {};
  for (const d of defs) {
    if (values[`collector.${d.name}`] && values[`no-collector.${d.name}`])
      return fail(`both --collector.${d.name} and --no-collector.${d.name} given`);
    if (values[`collector.${d.name}`]) flags[d.name] = true;
    if (values[`no-collector.${d.name}`]) flags[d.name] = false;
  }
  const level = typeof values['log.level'] === 'string' ? values['log.level'] : 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level))
    return fail(`--log.level: expected debug, info, warn or error, got ${JSON.stringify(level)}`);
  const format = typeof values['log.format'] === 'string' ? values['log.format'] : 'logfmt';
  if (format !== 'logfmt' && format !== 'json')
    return fail(`--log.format: expected logfmt or json, got ${JSON.stringify(format)}`);
  const telemetryPath =
    typeof values['web.telemetry-path'] === 'string' ? values['web.telemetry-path'] : DEFAULT_TELEMETRY_PATH;
  if (!/^\/[^?#\s]*$/.test(telemetryPath) || telemetryPath === '/' || telemetryPath === '/healthz')
    return fail(
      `--web.telemetry-path: expected a path such as /metrics, got ${JSON.stringify(telemetryPath)}`,
    );
  const listen = Array.isArray(values['web.listen-address'])
    ? values['web.listen-address'].map(String)
    : [DEFAULT_LISTEN_ADDRESS];

  // Logs go to stderr like node_exporter's, in its default format, so stdout stays free for --help/--version.
  const logger = pino(
    {
      level,
      base: { app: 'tillwatch-exporter' },
      // pino.stdTimeFunctions.isoTime's output, without Date#toISOString (utc-time.ts says why).
      timestamp: () => `,"time":"${isoTime(Date.now())}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    format === 'json' ? pino.destination(2) : logfmtStream(process.stderr),
  );

  let exporter;
  let web;
  const webConfigFile = typeof values['web.config.file'] === 'string' ? values['web.config.file'] : undefined;
  try {
    const config = loadConfig(values.config);
    const webConfig = webConfigFile ? loadWebConfig(webConfigFile) : undefined;
    exporter = createExporter(config, { logger, collectorFlags: flags });
    await exporter.start();
    web = await startWebServer(exporter, listen, webConfig, { logger, telemetryPath });
  } catch (err) {
    if (err instanceof ConfigError)
      process.stderr.write(`tillwatch-exporter: invalid configuration\n${err.message}\n`);
    else process.stderr.write(`tillwatch-exporter: ${(err as Error).message}\n`);
    await exporter?.stop();
    return 1;
  }
  const served = web.servers
    .map((s) => s.address())
    .map((a) =>
      a && typeof a === 'object'
        ? a.family === 'IPv6'
          ? `[${a.address}]:${a.port}`
          : `${a.address}:${a.port}`
        : String(a),
    )
    .join(',');
  logger.info(
    { addresses: served, version: VERSION, revision: REVISION, collectors: exporter.collectors.join(',') },
    'listening',
  );
  if (!webConfigFile) logger.warn('no --web.config.file: serving plain HTTP without authentication');

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await web.close();
    await exporter.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  // systemd's ExecReload: re-read the web config (certificates, users) now rather than on the next check.
  process.on('SIGHUP', () => void web.reload());
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tillwatch-exporter: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
