#!/usr/bin/env node
// The demo chain's till-side action agents (issue 19): one real `tillwatch-actions` agent (ActionAgent from
// exporter/src/actions) per simulated till, each with its own config and credential from DIR (rendered by
// scripts/stack/plan.ts into .tmp/stack/till-actions/), polling the bridge outbound as a till behind NAT
// would. One process rather than one per till, as the fleet simulator runs every till's exporter in one:
// the agents share nothing but the event loop. Their allowlists name simulator/hooks/restart-service.mjs as
// the program, which restarts the service in the fleet simulator (the demo's stand-in for systemctl).
// GET /agents lists each till's agent and what it did.
// Usage: till-agents --dir DIR --listen 127.0.0.1:9842
import express from 'express';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ActionAgent, loadAgentConfig, type AgentConfig } from '@tillwatch/exporter/actions';
import { parseListen } from './args.js';

interface Running {
  config: AgentConfig;
  agent: ActionAgent;
  log: { at: string; action_id?: number; action?: string; result?: string; reason?: string }[];
}

function main(): void {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, listen: { type: 'string' } } });
  if (!values.dir) throw new Error('--dir is required: the folder of the tills’ agent configs (*.yml)');
  const listen = parseListen('--listen', values.listen ?? '127.0.0.1:9842');
  const running: Running[] = readdirSync(values.dir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => {
      const config = loadAgentConfig(join(values.dir!, f));
      const log: Running['log'] = [];
      // What the agent logs (its remote actions and failed polls), kept per till for GET /agents.
      const keep = (obj: object, msg: string) => {
        log.push({
          at: new Date().toISOString(),
          ...(obj as object),
          ...(msg === 'remote action' ? {} : { reason: msg }),
        });
        if (log.length > 50) log.shift();
      };
      return { config, log, agent: new ActionAgent(config, { info: keep, warn: keep }) };
    });
  for (const r of running) r.agent.start();

  const app = express();
  app.get('/agents', (_req, res) => {
    res.json({
      agents: running.map((r) => ({
        till: r.config.bridge.till,
        actions: [...r.config.allow.keys()],
        counts: r.agent.counts,
        log: r.log,
      })),
    });
  });
  app.get('/', (_req, res) => {
    res.redirect('/agents');
  });
  const web = app.listen(listen.port, listen.host, () => {
    console.log(
      `till agents ready: ${running.length} tills polling ${running[0]?.config.bridge.url ?? '(none)'}, status at http://${listen.host}:${listen.port}/agents`,
    );
  });
  web.on('error', (e) => {
    console.error(`till-agents: cannot listen on ${listen.host}:${listen.port}: ${e.message}`);
    process.exit(1);
  });
  const stop = () => {
    for (const r of running) r.agent.stop();
    web.close(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

try {
  main();
} catch (e) {
  console.error(`till-agents: ${(e as Error).message}`);
  process.exit(1);
}
