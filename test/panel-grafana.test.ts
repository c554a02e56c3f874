// The panel against the Grafana it declares (issue 16): one Grafana version across plugin.json's
// grafanaDependency, docker-compose.yml and the plugin's dev stack, and @grafana/levitate's check that
// every @grafana API the panel uses exists, unchanged, in the lowest Grafana of that range.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const plugin = join(root, 'grafana-plugin');
const PACKAGES = ['@grafana/data', '@grafana/ui', '@grafana/schema'];

const pluginJson = JSON.parse(readFileSync(join(plugin, 'src/plugin.json'), 'utf8')) as {
  dependencies: { grafanaDependency: string };
};
const minimum = /^>=(\d+\.\d+\.\d+)$/.exec(pluginJson.dependencies.grafanaDependency)?.[1];

// Resolved as Node would from the plugin, wherever npm put the package (the plugin's own node_modules, or
// hoisted to the repository's).
const fromPlugin = createRequire(join(plugin, 'package.json'));

function installed(name: string): string {
  return (JSON.parse(readFileSync(fromPlugin.resolve(`${name}/package.json`), 'utf8')) as { version: string })
    .version;
}

/**
 * Runs `levitate is-compatible` on `entry` against the packages at `version`. Levitate learns the versions
 * in use from `npm list` in the entry's folder, which inside an npm workspace lists the workspace, not its
 * dependencies: so the entry sits in a scratch project that declares the installed @grafana packages and
 * links them. It downloads the target versions from the npm registry (cached under the OS temp folder).
 */
async function levitate(entrySource: string, version: string): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tillwatch-levitate-'));
  try {
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'levitate-check',
        private: true,
        dependencies: Object.fromEntries(PACKAGES.map((p) => [p, installed(p)])),
      }),
    );
    mkdirSync(join(dir, 'node_modules', '@grafana'), { recursive: true });
    for (const p of PACKAGES)
      symlinkSync(dirname(fromPlugin.resolve(`${p}/package.json`)), join(dir, 'node_modules', p));
    writeFileSync(join(dir, 'entry.ts'), entrySource);
    const targets = PACKAGES.map((p) => `${p}@${version}`).join(',');
    try {
      const r = await promisify(execFile)(
        join(root, 'node_modules', '.bin', 'levitate'),
        ['is-compatible', '--path', join(dir, 'entry.ts'), '--target', targets],
        { cwd: dir, env: { ...process.env, LEVITATE_CACHE: 'true', FORCE_COLOR: '0' }, maxBuffer: 16 << 20 },
      );
      return { ok: true, output: r.stdout + r.stderr };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; code?: number };
      return { ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Levitate skips a package it cannot find or download and still says "compatible": make sure each was compared. */
function comparedAll(output: string): void {
  expect(output).not.toMatch(/Skipping package|Could not process/);
  for (const p of PACKAGES) expect(output).toContain(`Found ${p} version ${installed(p)} locally`);
}

// Levitate compiles the panel with @grafana/ui's types: 20 s alone, over 2 minutes on a loaded two-core machine.
describe('the panel and the Grafana it declares', () => {
  it('declares one lowest Grafana, run by docker-compose.yml and by the plugin dev stack', () => {
    expect(minimum, pluginJson.dependencies.grafanaDependency).toMatch(/^13\.\d+\.\d+$/);
    const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { image?: string }>;
    };
    expect(compose.services.grafana?.image).toBe(`grafana/grafana:${minimum}`);
    const dev = readFileSync(join(plugin, 'docker-compose.yaml'), 'utf8');
    expect(/grafana_version: \$\{GRAFANA_VERSION:-([\d.]+)\}/.exec(dev)?.[1]).toBe(minimum);
    expect(/grafana_image: \$\{GRAFANA_IMAGE:-([\w-]+)\}/.exec(dev)?.[1]).toBe('grafana');
  });

  it('builds against @grafana packages of the same major, at or above the declared minimum', () => {
    for (const p of PACKAGES) {
      const v = installed(p);
      expect(v.split('.')[0], p).toBe(minimum!.split('.')[0]);
      expect(v.localeCompare(minimum!, undefined, { numeric: true }), `${p} ${v}`).toBeGreaterThanOrEqual(0);
    }
  });

  it('uses only @grafana APIs that exist unchanged in the lowest declared Grafana (levitate)', async () => {
    const r = await levitate(`export * from ${JSON.stringify(join(plugin, 'src', 'module'))};\n`, minimum!);
    comparedAll(r.output);
    expect(r.output).toContain('appears to be compatible');
    expect(r.ok, r.output).toBe(true);
  }, 600_000);

  it('would fail a panel that uses an API newer than the declared minimum (the check can fail)', async () => {
    // generateUUID appeared in @grafana/data 13.1; Grafana 13.0 does not have it.
    const r = await levitate(
      `import { generateUUID } from '@grafana/data';\nexport const id = generateUUID();\n`,
      minimum!,
    );
    comparedAll(r.output);
    expect(r.output).toContain('generateUUID');
    expect(r.ok).toBe(false);
  }, 600_000);
});
