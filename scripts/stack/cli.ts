#!/usr/bin/env node
// `node --import tsx scripts/stack/cli.ts [start|prepare]`: start runs the demo stack in the foreground
// (what `npm start` does after preparing the clone); prepare only renders the configs and targets into
// .tmp/stack (the docker-compose `prepare` service).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_ADMIN, planStack, type StackOptions } from './plan.js';
import { prepareStack, StackError, startStack } from './supervisor.js';

/**
 * TILLWATCH_STACK_OPTIONS: the stack's options (StackOptions of plan.ts) as JSON, to run the same main job
 * on other ports, runtime dir or inventory (test/quickstart.test.ts runs `npm start` so, beside whatever
 * else runs on the machine). Unset: the demo stack of the README.
 */
export function stackOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): StackOptions {
  const text = env.TILLWATCH_STACK_OPTIONS;
  if (!text) return {};
  try {
    const o = JSON.parse(text) as unknown;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('expected a JSON object');
    return o as StackOptions;
  } catch (e) {
    throw new StackError(`TILLWATCH_STACK_OPTIONS: ${(e as Error).message}`);
  }
}

export async function runStack(): Promise<number> {
  let plan;
  try {
    plan = planStack(stackOptionsFromEnv());
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  console.log(`TillWatch demo stack: runtime files and logs in ${plan.runtimeDir}`);
  // Signals are handled from the start: Ctrl-C while services are still starting stops those already up.
  const abort = new AbortController();
  const signalled = new Promise<string>((resolve) => {
    const on = (s: string) => {
      abort.abort();
      resolve(s);
    };
    process.once('SIGINT', () => on('SIGINT'));
    process.once('SIGTERM', () => on('SIGTERM'));
  });
  let stack;
  try {
    stack = await startStack(plan, { log: (l) => console.log(l), signal: abort.signal });
  } catch (e) {
    if (abort.signal.aborted) {
      console.log('interrupted while starting; everything started so far is stopped.');
      return 130;
    }
    console.error(e instanceof StackError ? e.message : (e as Error).stack);
    return 1;
  }
  const u = plan.urls;
  const tills = stack.services
    .find((s) => s.spec.name === 'simulator')
    ?.output()
    .match(/fleet ready: .*/)?.[0];
  console.log(`
TillWatch is running${tills ? ` (${tills})` : ''}:
  Prometheus              ${u.prometheus}
  Alertmanager            ${u.alertmanager}
  Tickets (bridge)        ${u.tickets}   (log in as ${DEMO_ADMIN.name}, password ${DEMO_ADMIN.password}; API token ${plan.apiToken})
  Panel wall              ${u.wall}
  Telegram emulator       ${u.telegram}
  Mail catcher            ${u.mail}
  Simulator control       ${u.control}/fleet   (inject: curl -XPOST ${u.control}/tills/<till>/faults -H 'content-type: application/json' -d '{"fault":"paper_out"}')${u.agents ? `\n  Till action agents      ${u.agents}   (a utm_hung fault is restarted away: auto-remediated, nobody paged)` : ''}
Logs: ${plan.runtimeDir}/logs/. Ctrl-C stops everything.`);

  const outcome = await Promise.race([
    signalled.then((s) => ({ kind: 'signal' as const, s })),
    stack.died.then((d) => ({ kind: 'died' as const, d })),
  ]);
  if (outcome.kind === 'died') {
    const { service, how, output } = outcome.d;
    console.error(
      `\n${service} ${how}; stopping the stack. Its last output:\n${output.split('\n').slice(-20).join('\n')}`,
    );
    await stack.stop();
    return 1;
  }
  console.log(`\n${outcome.s}: stopping the stack ...`);
  await stack.stop();
  console.log('stopped.');
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const what = process.argv[2] ?? 'start';
  if (what === 'prepare') {
    try {
      const plan = planStack();
      prepareStack(plan);
      console.log(
        `rendered ${Object.keys(plan.prepare.files).length} configs and the targets into ${plan.runtimeDir}`,
      );
      process.exit(0);
    } catch (e) {
      console.error((e as Error).message);
      process.exit(1);
    }
  } else if (what === 'start') {
    runStack().then((code) => process.exit(code));
  } else {
    console.error('usage: cli.ts [start|prepare]');
    process.exit(2);
  }
}
