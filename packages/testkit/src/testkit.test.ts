import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { close, freePorts, listen } from './ports.js';
import { startService } from './process.js';
import { StopWaiting, waitFor } from './wait.js';

describe('waitFor', () => {
  it('resolves with the first value that is neither undefined nor false', async () => {
    let n = 0;
    const v = await waitFor('the third call', () => (++n === 3 ? n : n === 2 ? false : undefined), {
      intervalMs: 1,
    });
    expect(v).toBe(3);
  });

  it('keeps polling through errors and names the goal and the last error when it gives up', async () => {
    let calls = 0;
    const failure = waitFor(
      'a server that never starts',
      () => {
        calls++;
        throw new Error(`ECONNREFUSED #${calls}`);
      },
      { timeoutMs: 200, intervalMs: 10 },
    );
    await expect(failure).rejects.toThrow(
      /^timed out after 0.2 s waiting for a server that never starts: Error: ECONNREFUSED #\d+$/,
    );
    expect(calls).toBeGreaterThan(2);
  });

  it('stops at once on StopWaiting', async () => {
    let calls = 0;
    const stopped = waitFor(
      'a program that exited',
      () => {
        calls++;
        throw new StopWaiting('exited with code 3');
      },
      { timeoutMs: 60_000 },
    );
    await expect(stopped).rejects.toThrow('exited with code 3');
    expect(calls).toBe(1);
  });
});

describe('ports', () => {
  it('hands out distinct loopback ports that a server can take', async () => {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    // Below the kernel's ephemeral range, where no outgoing connection can take one before its program binds it.
    for (const p of ports) expect(p).toBeGreaterThanOrEqual(20_000);
    for (const p of ports) expect(p).toBeLessThan(32_768);
    for (const p of ports) {
      const s = createServer();
      expect(await listen(s, p)).toBe(p);
      await close(s);
    }
  });
});

describe('startService', () => {
  const node = process.execPath;

  it('resolves once the ready path answers, and stop() ends the program', async () => {
    const [port] = await freePorts(1);
    const script = `require('http').createServer((q, s) => s.end(q.url)).listen(${port}, '127.0.0.1')`;
    const svc = await startService('echo', node, ['-e', script], port!, { readyPath: '/ready' });
    expect(await (await fetch(`${svc.url}/ready`)).text()).toBe('/ready');
    await svc.stop();
    expect(svc.exited()).toBe(true);
    await expect(fetch(`${svc.url}/ready`)).rejects.toThrow();
  });

  it('fails at once with the output of a program that exits before it is ready', async () => {
    const [port] = await freePorts(1);
    const failed = startService(
      'broken',
      node,
      ['-e', 'console.error("no config"); process.exit(3)'],
      port!,
      {
        readyPath: '/',
        timeoutMs: 60_000,
      },
    );
    // Its own exit ends the wait, not the 60 s timeout ("timed out ... waiting for broken to be ready").
    await expect(failed).rejects.toThrow(/^broken exited:\s+no config/);
  });
});
