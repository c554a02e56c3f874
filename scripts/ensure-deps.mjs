// Makes a fresh clone ready to run: Debian packages, npm packages, and a build.
// Plain Node with no dependencies, because it runs before `npm ci` has installed anything.
// Installs what it can (as root), otherwise stops with the exact command to run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Debian packages the stack and its tests run for real, with a binary to check each by. */
export const DEBIAN_PACKAGES = [
  { pkg: 'prometheus', bin: 'promtool' },
  { pkg: 'prometheus-alertmanager', bin: 'amtool' },
  { pkg: 'prometheus-node-exporter', bin: 'prometheus-node-exporter' },
  { pkg: 'victoria-metrics', bin: 'victoria-metrics' },
  { pkg: 'docker-compose', bin: 'docker-compose' },
  { pkg: 'chromium', bin: 'chromium' },
  { pkg: 'socat', bin: 'socat' },
  // A real Redmine for the service-desk adapter's test; served by Thin, which its Debian Gemfile
  // loads when installed. Checked by files: Redmine puts no command on PATH.
  { pkg: 'redmine', file: '/usr/share/redmine/bin/rails' },
  {
    pkg: 'redmine-sqlite',
    file: '/var/lib/dbconfig-common/sqlite3/redmine/instances/default/redmine_default',
  },
  { pkg: 'thin', bin: 'thin' },
  // A real Request Tracker 5 for its adapter's test, served by its own rt-server (Starlet); the SQLite
  // database its dbconfig-common creates is the template each test run copies.
  { pkg: 'request-tracker5', file: '/usr/share/request-tracker5/libexec/rt-server' },
  { pkg: 'rt5-db-sqlite', file: '/var/lib/dbconfig-common/sqlite3/request-tracker5/rtdb' },
  // The printer collector's test runs a real CUPS scheduler and adds a queue with lpadmin.
  { pkg: 'cups-daemon', file: '/usr/sbin/cupsd' },
  { pkg: 'cups-client', bin: 'lpadmin' },
  // The store-server rules' test scrapes Debian's PostgreSQL exporter.
  { pkg: 'prometheus-postgres-exporter', bin: 'prometheus-postgres-exporter' },
];

function installed(p) {
  if (p.file) return existsSync(p.file);
  return spawnSync('sh', ['-c', `command -v ${p.bin}`], { stdio: 'ignore' }).status === 0;
}

function run(cmd, args, opts = {}) {
  console.error(`+ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`command failed (${r.status}): ${cmd} ${args.join(' ')}`);
    process.exit(r.status ?? 1);
  }
}

export function ensureDebianPackages() {
  const missing = DEBIAN_PACKAGES.filter((p) => !installed(p)).map((p) => p.pkg);
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    console.error(
      `Missing Debian packages: ${missing.join(', ')}.\nRun:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`,
    );
    process.exit(1);
  }
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function newestMtime(dir, skip = new Set(['node_modules', 'dist', '.tmp'])) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(e.name)) continue;
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p, skip) : statSync(p).mtimeMs);
  }
  return newest;
}

export function ensureNpmPackages() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

/**
 * The workspaces with a build, each newer source making it stale. packages/testkit has none: it is
 * only run from its sources, by vitest and tsx.
 */
export const BUILT_PACKAGES = [
  'packages/config',
  'exporter',
  'packages/inventory',
  'ops',
  'simulator',
  'alert-bridge',
  'packages/dashboards',
  'grafana-plugin',
];

/** Builds when any package's sources are newer than its dist/. */
export function ensureBuild() {
  const stale = BUILT_PACKAGES.some((p) => {
    const dir = join(root, p);
    if (!existsSync(join(dir, 'package.json'))) return false;
    const dist = join(dir, 'dist');
    return !existsSync(dist) || newestMtime(join(dir, 'src')) > newestMtime(dist, new Set());
  });
  if (stale) run('npm', ['run', 'build']);
}

export function ensureAll() {
  ensureDebianPackages();
  ensureNpmPackages();
  ensureBuild();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  ensureAll();
  execFileSync('true');
}
