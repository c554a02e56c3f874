// docker-compose.yml is the native stack in containers: it must be valid for docker-compose, pin every
// image, and run each service with exactly the command scripts/stack gives the native stack (the same
// arguments, config files and environment), so what the e2e test proves holds for the compose file too.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { planStack, repoRoot } from '../scripts/stack/index.js';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
}

// `docker-compose config` resolves anchors, merges and paths: the file as Docker would run it.
const resolved = parse(
  execFileSync('docker-compose', ['-f', join(repoRoot, 'docker-compose.yml'), 'config'], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }),
) as { services: Record<string, ComposeService> };
const services = resolved.services;
const plan = planStack();

// The official images name the binaries differently from Debian's packages.
const IMAGE_BINARY: Record<string, string> = {
  '/bin/prometheus': 'prometheus',
  '/bin/alertmanager': 'prometheus-alertmanager',
};

function argv(s: ComposeService): string[] {
  const [bin, ...rest] = [...(s.entrypoint ?? []), ...(s.command ?? [])];
  return [IMAGE_BINARY[bin ?? ''] ?? bin ?? '', ...rest];
}

describe('docker-compose.yml', () => {
  it('passes docker-compose config and has every native service plus Grafana', () => {
    expect(Object.keys(services).sort()).toEqual(
      [...plan.services.map((s) => s.name), 'prepare', 'grafana'].sort(),
    );
  });

  it('pins every image to a version (no latest, no bare name), and the Dockerfile base too', () => {
    for (const [name, s] of Object.entries(services)) {
      expect({ name, image: s.image }).toEqual({
        name,
        image: expect.stringMatching(/^[\w./-]+:v?\d+\.\d+\.\d+/),
      });
    }
    expect(services.prometheus?.image).toBe('prom/prometheus:v2.42.0');
    expect(services.alertmanager?.image).toBe('prom/alertmanager:v0.25.0');
    const from = /^FROM\s+(\S+)/m.exec(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'))?.[1];
    expect(from).toMatch(/^node:20\.\d+\.\d+-bookworm-slim$/);
  });

  it.each(plan.services.map((s) => [s.name, s] as const))(
    'runs %s with the native stack command and environment',
    (name, spec) => {
      const s = services[name]!;
      expect(argv(s)).toEqual(spec.command);
      expect(s.environment ?? {}).toEqual(spec.env);
    },
  );

  it('prepares the configs with the stack library, as npm start does', () => {
    expect(argv(services.prepare!)).toEqual(['node', '--import', 'tsx', 'scripts/stack/cli.ts', 'prepare']);
  });

  it('loads the panel plugin unsigned by its id, with the datasource and dashboards provisioned', () => {
    const pluginId = (
      JSON.parse(readFileSync(join(repoRoot, 'grafana-plugin/src/plugin.json'), 'utf8')) as { id: string }
    ).id;
    const g = services.grafana!;
    expect(g.environment?.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS?.split(',')).toContain(pluginId);
    const mounts = (g.volumes ?? []).map((v) => v.replace(`${repoRoot}/`, '').replace(/:(ro|rw)$/, ''));
    expect(mounts).toEqual(
      expect.arrayContaining([
        `grafana-plugin/dist:/var/lib/grafana/plugins/${pluginId}`,
        'deploy/grafana/provisioning:/etc/grafana/provisioning',
        'dashboards:/var/lib/grafana/dashboards',
      ]),
    );
  });
});
