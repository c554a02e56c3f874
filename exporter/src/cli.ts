#!/usr/bin/env -S node --max-semi-space-size=1 --no-opt --no-maglev
// tillwatch-exporter --config FILE [--web.listen-address=:9835] [--web.config.file=FILE]
//                    [--collector.<name>|--no-collector.<name>] [--log.level=info]
import { parseArgs } from 'node:util';
import pino from 'pino';
import {
  ConfigError,
  createExporter,
  DEFAULT_LISTEN_ADDRESS,
  loadConfig,
  loadWebConfig,
  registeredCollectors,
  startWebServer,
  VERSION,
} from './index.js';

function usage(): string {
  const names = registeredCollectors()
    .map((d) => d.name)
    .sort();
  return `Usage: tillwatch-exporter --config FILE [options]

  --config FILE                 exporter config (YAML), required
  --web.listen-address ADDR     address to listen on (default ${DEFAULT_LISTEN_ADDRESS})
  --web.config.file FILE        exporter-toolkit web config: TLS and basic auth
  --collector.NAME              enable a collector
  --no-collector.NAME           disable a collector
  --log.level LEVEL             debug, info, warn, error (default info)
  --version, --help

Collectors: ${names.join(', ')}
`;
}

async function main(argv: string[]): Promise<number> {
  const defs = registeredCollectors();
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    config: { type: 'string' },
    'web.listen-address': { type: 'string' },
    'web.config.file': { type: 'string' },
    'log.level': { type: 'string' },
    version: { type: 'boolean' },
    help: { type: 'boolean' },
  };
  for (const d of defs) {
    options[`collector.${d.name}`] = { type: 'boolean' };
    options[`no-collector.${d.name}`] = { type: 'boolean' };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, allowPositionals: false, strict: true }));
  } catch (err) {
    process.stderr.write(`tillwatch-exporter: ${(err as Error).message}\n\n${usage()}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage());
    return 0;
  }
  if (values.version) {
    process.stdout.write(`tillwatch-exporter ${VERSION} (node ${process.version})\n`);
    return 0;
  }
  if (typeof values.config !== 'string') {
    process.stderr.write(`tillwatch-exporter: --config is required\n\n${usage()}`);
    return 2;
  }
  const flags: Record<string, boolean> = {};
  for (const d of defs) {
    if (values[`collector.${d.name}`] && values[`no-collector.${d.name}`]) {
      process.stderr.write(
        `tillwatch-exporter: both --collector.${d.name} and --no-collector.${d.name} given\n`,
      );
      return 2;
    }
    if (values[`collector.${d.name}`]) flags[d.name] = true;
    if (values[`no-collector.${d.name}`]) flags[d.name] = false;
  }
  const level = typeof values['log.level'] === 'string' ? values['log.level'] : 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    process.stderr.write(`tillwatch-exporter: --log.level: expected debug, info, warn or error\n`);
    return 2;
  }
  // Logs go to stderr like node_exporter's, so stdout stays free for --help/--version.
  const logger = pino({ level, base: { app: 'tillwatch-exporter' } }, pino.destination(2));

  let exporter;
  let web;
  try {
    const config = loadConfig(values.config);
    const webConfig =
      typeof values['web.config.file'] === 'string' ? loadWebConfig(values['web.config.file']) : undefined;
    exporter = createExporter(config, { logger, collectorFlags: flags });
    await exporter.start();
    web = await startWebServer(
      exporter,
      typeof values['web.listen-address'] === 'string'
        ? values['web.listen-address']
        : DEFAULT_LISTEN_ADDRESS,
      webConfig,
      { logger },
    );
  } catch (err) {
    if (err instanceof ConfigError)
      process.stderr.write(`tillwatch-exporter: invalid configuration\n${err.message}\n`);
    else process.stderr.write(`tillwatch-exporter: ${(err as Error).message}\n`);
    await exporter?.stop();
    return 1;
  }
  logger.info({ address: web.url('/'), version: VERSION, collectors: exporter.collectors }, 'listening');
  if (typeof values['web.config.file'] !== 'string') {
    logger.warn('no --web.config.file: serving plain HTTP without authentication');
  }

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await web.close();
    await exporter.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
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
