// The supervisor's promises to a person running `npm start`: a taken port is named with its service before
// anything starts, a service that dies stops the whole stack and is named, and stop() leaves nothing running.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPorts, portFree, startStack, type ServiceSpec } from '../scripts/stack/index.js';
import { planTestStack } from './support/stack.js';

const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function plan() {
  const dir = mkdtempSync(join(tmpdir(), 'tillwatch-supervisor-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return planTestStack({ dir, stores: 1, tillsPerStore: 2 });
}

/** A tiny HTTP service on `port` that exits with `code` after `lifeMs` (never, when undefined). */
function service(name: string, port: number, lifeMs?: number): ServiceSpec {
  const script = `require('http').createServer((q,s)=>s.end('ok')).listen(${port},'127.0.0.1');${
    lifeMs === undefined ? '' : `setTimeout(()=>process.exit(3),${lifeMs});`
  }`;
  return {
    name,
    title: name,
    command: ['node', '-e', script],
    env: {},
    listens: [{ port, what: name }],
    readyUrl: `http://127.0.0.1:${port}/`,
    url: `http://127.0.0.1:${port}/`,
  };
}

describe('stack supervisor', () => {
  it('refuses to start when a port is taken, naming the port and the service', async () => {
    const p = await plan();
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(p.ports.prometheus, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => squatter.close(() => r())));
    await expect(checkPorts(p)).rejects.toThrow(`port ${p.ports.prometheus} (Prometheus) is already in use`);
  });

  it('stops every service and names the one that died', async () => {
    const p = await plan();
    p.services = [service('steady', p.ports.telegram), service('fragile', p.ports.mailHttp, 1_500)];
    const stack = await startStack(p);
    cleanup.push(() => stack.stop());
    const death = await stack.died;
    expect(death).toMatchObject({ service: 'fragile', how: 'exited with code 3' });
    await expect.poll(() => portFree(p.ports.telegram), { timeout: 10_000 }).toBe(true);
  });

  it('stop() ends every service it started', async () => {
    const p = await plan();
    p.services = [service('one', p.ports.telegram), service('two', p.ports.mailHttp)];
    const stack = await startStack(p);
    expect(await portFree(p.ports.mailHttp)).toBe(false);
    await stack.stop();
    expect([await portFree(p.ports.telegram), await portFree(p.ports.mailHttp)]).toEqual([true, true]);
  });
});
