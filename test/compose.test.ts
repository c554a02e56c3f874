// docker-compose.yml is the native stack in containers: it must be valid for Compose v2, pin every
// image, give every service a healthcheck that its image can run, and run each service with exactly the
// command scripts/stack gives the native stack (the same arguments, config files and environment), so what
// the e2e test proves holds for the compose file too. The VictoriaMetrics cluster overlay
// (deploy/central/docker-compose.cluster.yml) is checked the same way on top of it.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { planStack, repoRoot } from '../scripts/stack/index.js';
// @ts-expect-error: plain JavaScript without types (it runs before npm ci)
import { NODE_LTS } from '../scripts/ensure-deps.mjs';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: Array<{ type: string; source: string; target: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
}

const INSTALL =
  "bash scripts/install-compose-v2.sh (unpacks Debian 13's docker-compose 2.x into .tmp/compose-v2)";

/**
 * Compose v2 as a command line: the copy scripts/install-compose-v2.sh unpacks (what .ci/run installs),
 * else `docker compose` or a `docker-compose` that is v2. Debian 12's docker-compose is 1.29: not accepted.
 */
function findComposeV2(): string[] | undefined {
  const candidates = [
    [join(repoRoot, '.tmp/compose-v2/usr/libexec/docker/cli-plugins/docker-compose')],
    ['docker', 'compose'],
    ['docker-compose'],
  ];
  for (const [cmd, ...pre] of candidates) {
    const r = spawnSync(cmd!, [...pre, 'version', '--short'], { encoding: 'utf8' });
    if (r.status === 0 && /^v?2\./.test(r.stdout.trim())) return [cmd!, ...pre];
  }
  return undefined;
}

const compose = findComposeV2();

/**
 * `config` resolves anchors, merges, profiles and paths: the files as Docker would run them. `profiles`
 * are enabled (a global option), `flags` go to `config` itself.
 */
function config(files: string[], profiles: string[], ...flags: string[]): string {
  const [cmd, ...pre] = compose!;
  const global = [
    ...files.flatMap((f) => ['-f', join(repoRoot, f)]),
    ...profiles.flatMap((p) => ['--profile', p]),
  ];
  return execFileSync(cmd!, [...pre, ...global, 'config', ...flags], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function servicesOf(files: string[], profiles: string[] = []): Record<string, ComposeService> {
  return (
    JSON.parse(config(files, profiles, '--format', 'json')) as { services: Record<string, ComposeService> }
  ).services;
}

/**
 * The programs a healthcheck may run in the images this repository does not build, by what each image
 * is made of (its base has no other HTTP client: no curl in any of them).
 */
const IMAGE_PROGRAMS: Array<{ image: RegExp; programs: string[]; why: string }> = [
  { image: /^prom\/(prometheus|alertmanager):/, programs: ['wget'], why: 'busybox base: busybox wget' },
  { image: /^grafana\/grafana:/, programs: ['wget'], why: 'Alpine base: busybox wget' },
  { image: /^victoriametrics\/vm\w+:/, programs: ['wget'], why: 'Alpine base: busybox wget' },
];

/** What a healthcheck runs: its program and the URL it probes (if any). */
function probe(s: ComposeService): { program: string; url?: string } {
  const [kind, program, ...args] = s.healthcheck?.test ?? [];
  // CMD-SHELL would need a shell, which distroless or scratch images lack: the exec form only.
  expect(kind).toBe('CMD');
  return { program: program!, url: /https?:\/\/[^\s'"]+/.exec(args.join(' '))?.[0] };
}

/** The program a service's container runs (the image's entrypoint when the file sets none). */
function ownProgram(s: ComposeService): string | undefined {
  return (s.entrypoint ?? s.command ?? [])[0];
}

function checkHealthchecks(services: Record<string, ComposeService>): string[] {
  const wrong: string[] = [];
  for (const [name, s] of Object.entries(services)) {
    if (!s.healthcheck?.test || s.healthcheck.disable) {
      wrong.push(`${name}: no healthcheck`);
      continue;
    }
    const { program } = probe(s);
    if (s.build !== undefined) {
      // TillWatch's own image: the healthcheck runs the program every service of it runs (node).
      if (program !== ownProgram(s))
        wrong.push(`${name}: healthcheck runs ${program}, the service runs ${ownProgram(s)}`);
      continue;
    }
    const known = IMAGE_PROGRAMS.find((k) => k.image.test(s.image ?? ''));
    if (!known) wrong.push(`${name}: no known programs for image ${s.image}`);
    else if (!known.programs.includes(program))
      wrong.push(`${name}: ${program} is not in ${s.image} (${known.why})`);
  }
  return wrong;
}

const CLUSTER = ['docker-compose.yml', 'deploy/central/docker-compose.cluster.yml'];
const resolved = compose ? { services: servicesOf(['docker-compose.yml']) } : { services: {} };
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

if (!compose) {
  describe('docker-compose.yml', () => {
    it.skip(`needs Compose v2, which is missing: ${INSTALL}`, () => {});
  });
}

describe.skipIf(!compose)('docker-compose.yml (Compose v2)', () => {
  it('passes `docker compose config --quiet`, alone and with the cluster overlay', () => {
    expect(config(['docker-compose.yml'], [], '--quiet')).toBe('');
    expect(config(CLUSTER, ['cluster'], '--quiet')).toBe('');
  });

  it('has every native service plus Grafana', () => {
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
    expect(from).toBe(`node:${NODE_LTS}-bookworm-slim`);
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
    const mounts = (g.volumes ?? []).map((v) => `${v.source.replace(`${repoRoot}/`, '')}:${v.target}`);
    expect(mounts).toEqual(
      expect.arrayContaining([
        `grafana-plugin/dist:/var/lib/grafana/plugins/${pluginId}`,
        'deploy/grafana/provisioning:/etc/grafana/provisioning',
        'dashboards:/var/lib/grafana/dashboards',
      ]),
    );
  });

  it('gives every service a healthcheck its image can run', () => {
    expect(checkHealthchecks(services)).toEqual([]);
  });

  it.each(plan.services.map((s) => [s.name, s] as const))(
    '%s: the healthcheck probes the URL the native stack waits for',
    (name, spec) => {
      expect(probe(services[name]!).url).toBe(spec.readyUrl);
    },
  );

  it('starts each service once what it talks to is healthy: the bridge before Alertmanager, Alertmanager before Prometheus', () => {
    expect(services.alertmanager?.depends_on?.bridge?.condition).toBe('service_healthy');
    expect(services.prometheus?.depends_on?.alertmanager?.condition).toBe('service_healthy');
    expect(services.grafana?.depends_on?.prometheus?.condition).toBe('service_healthy');
  });

  it('cluster overlay: every service has a runnable healthcheck and mounts files that exist', () => {
    const all = servicesOf(CLUSTER, ['cluster']);
    expect(Object.keys(all)).toEqual(expect.arrayContaining(['vminsert', 'vmselect', 'vmalert-cluster']));
    expect(checkHealthchecks(all)).toEqual([]);
    // Compose v2 resolves an overlay's relative paths from the project directory (the first file's): the
    // overlay's own services must mount repository files that exist from there.
    const missing = Object.entries(all)
      .filter(([name]) => !(name in services))
      .flatMap(([name, s]) =>
        (s.volumes ?? [])
          .filter((v) => v.type === 'bind' && !existsSync(v.source))
          .map((v) => `${name}: ${v.source}`),
      );
    expect(missing).toEqual([]);
  });
});
