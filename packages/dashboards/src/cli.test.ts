import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('tillwatch-dashboards', () => {
  it('writes the dashboards formatted as the repository checks them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-dashboards-'));
    const r = await run('--out', dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain('noc.json');
    // Byte-identical to the committed files: prettier-formatted, so `npm run lint` stays clean.
    for (const name of ['noc.json', 'till.json', 'planning.json']) {
      const committed = fileURLToPath(new URL(`../../../dashboards/${name}`, import.meta.url));
      expect(readFileSync(join(dir, name), 'utf8'), name).toBe(readFileSync(committed, 'utf8'));
    }
  });

  it('exits 2 with usage without --out or with an unknown option', async () => {
    for (const args of [[], ['--colour']]) {
      const r = await run(...args);
      expect(r.code).toBe(2);
      expect(r.err).toContain('usage: tillwatch-dashboards --out DIR');
    }
  });
});
