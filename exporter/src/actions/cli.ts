#!/usr/bin/env node
// tillwatch-actions --config FILE [--once]: the till's remote-action agent (README.md, "Remote
// actions"). A separate process from the exporter on purpose: the exporter runs unprivileged with a
// read-only view, while restarting a service needs the rights the agent's own unit grants.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError } from '@tillwatch/config';
import { ActionAgent } from './agent.js';
import { loadAgentConfig } from './config.js';

const USAGE = `Usage: tillwatch-actions --config FILE [--once]

Polls the TillWatch bridge for remote actions addressed to this till and runs the allowlisted ones.
  --config FILE   agent config (YAML), required
  --once          poll once, run what came, and exit
`;

function main(): number | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      options: { config: { type: 'string' }, once: { type: 'boolean' }, help: { type: 'boolean' } },
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.config) {
    process.stderr.write(`--config is required\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadAgentConfig(values.config);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const log = pino({ name: 'tillwatch-actions' }, pino.destination(2));
  const agent = new ActionAgent(config, log);
  log.info(
    {
      till: config.bridge.till,
      actions: [...config.allow.keys()],
      dry_run: config.dryRun,
      killed: agent.killed(),
    },
    'action agent started',
  );
  if (values.once) {
    agent.pollOnce().then(
      () => process.exit(0),
      (e: unknown) => {
        log.warn({ err: (e as Error).message }, 'action poll failed');
        process.exit(1);
      },
    );
    return undefined;
  }
  agent.start();
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => (agent.stop(), process.exit(0)));
  return undefined;
}

const code = main();
if (code !== undefined) process.exitCode = code;
