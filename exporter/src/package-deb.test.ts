// The .deb (scripts/package-deb.mjs) built from the current build, installed by the real dpkg into a
// throwaway root with its real maintainer scripts (dpkg --root with --force-script-chrootless, which the
// scripts honour through DPKG_ROOT), checked file by file, the exporter started from the installed files
// on a loopback port with a TLS and basic-auth web config, then purged. Nothing outside the temporary
// directories changes: the host's dpkg database, users and systemd are never touched.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashSync } from '@node-rs/bcrypt';
import { closedPort, waitFor } from '@tillwatch/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/package-deb.mjs', import.meta.url));
/** The Node.js the package ships and the suite runs on (plain JavaScript, imported by URL: it has no types). */
const { NODE_VERSION } = (await import(new URL('../scripts/package-deb.mjs', import.meta.url).href)) as {
  NODE_VERSION: string;
};
const tlsDir = fileURLToPath(new URL('./testdata/tls/', import.meta.url));
// What `npm run build` wrote (scripts/bundle.mjs): the package must report the same.
const buildInfo = JSON.parse(
  readFileSync(join(fileURLToPath(new URL('..', import.meta.url)), 'dist', 'build-info.json'), 'utf8'),
) as { version: string; revision: string };

// The maintainer scripts chown files to the new group, which takes root (as on a till, and in CI).
describe.skipIf(process.getuid?.() !== 0)('the tillwatch-exporter .deb', { timeout: 600_000 }, () => {
  let out: string;
  let root: string;
  let deb: string;
  let child: ChildProcess | undefined;
  const dpkg = (...args: string[]) =>
    execFileSync(
      'dpkg',
      [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--log=/dev/null', ...args],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  const query = (format: string) =>
    execFileSync('dpkg-query', [`--root=${root}`, '-W', `-f=${format}`, 'tillwatch-exporter'], {
      encoding: 'utf8',
    });
  const at = (p: string) => join(root, p);

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'tillwatch-deb-'));
    root = mkdtempSync(join(tmpdir(), 'tillwatch-deb-root-'));
    deb = execFileSync(process.execPath, [script, '--out', out], { encoding: 'utf8' }).trim();
    // An empty dpkg database and /etc, as a fresh system has them.
    for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers', 'etc'])
      mkdirSync(at(d), { recursive: true });
    writeFileSync(at('var/lib/dpkg/status'), '');
  }, 600_000);
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  it('installs with dpkg: files, the service user, the config owned by its group, the unit enabled', () => {
    dpkg('-i', deb);
    expect(query('${Status} ${Version}')).toBe(`install ok installed ${buildInfo.version}`);
    expect(query('${Conffiles}')).toMatch(
      /\/etc\/default\/tillwatch-exporter [0-9a-f]{32}\n.*\/etc\/tillwatch\/exporter.yml [0-9a-f]{32}/s,
    );

    const user = readFileSync(at('etc/passwd'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('tillwatch:'));
    expect(user).toMatch(/^tillwatch:x:\d+:\d+:TillWatch exporter:\/nonexistent:\/usr\/sbin\/nologin$/);
    const gid = Number(user?.split(':')[3]);
    for (const [p, mode] of [
      ['etc/tillwatch', 0o750],
      ['etc/tillwatch/exporter.yml', 0o640],
    ] as const) {
      const s = statSync(at(p));
      expect([s.uid, s.gid, s.mode & 0o777], p).toEqual([0, gid, mode]);
    }
    for (const [p, mode] of [
      ['usr/bin/tillwatch-exporter', 0o755],
      ['opt/tillwatch-exporter/bin/node', 0o755],
      ['opt/tillwatch-exporter/dist/cli.js', 0o644],
      ['etc/default/tillwatch-exporter', 0o644],
      ['usr/lib/sysusers.d/tillwatch.conf', 0o644],
    ] as const) {
      const s = statSync(at(p));
      expect([s.uid, s.mode & 0o777], p).toEqual([0, mode]);
    }
    // The native addons the bundle leaves out are there for this architecture.
    expect(
      existsSync(at('opt/tillwatch-exporter/node_modules/@node-rs/bcrypt-linux-x64-gnu/package.json')),
    ).toBe(true);
    expect(existsSync(at('opt/tillwatch-exporter/node_modules/@serialport/bindings-cpp/package.json'))).toBe(
      true,
    );

    const unit = readFileSync(at('lib/systemd/system/tillwatch-exporter.service'), 'utf8');
    expect(unit).toContain('EnvironmentFile=-/etc/default/tillwatch-exporter\n');
    expect(unit).toContain('ExecStart=/usr/bin/tillwatch-exporter $ARGS\n');
    expect(unit).toContain('ExecReload=/bin/kill -HUP $MAINPID\n');
    // The remote-action agent is installed but not enabled: it needs the till's actions.yml and secret.
    for (const p of ['usr/bin/tillwatch-actions', 'opt/tillwatch-exporter/dist/actions-cli.js'])
      expect(existsSync(at(p)), p).toBe(true);
    expect(readFileSync(at('lib/systemd/system/tillwatch-actions.service'), 'utf8')).toContain(
      'ExecStart=/usr/bin/tillwatch-actions --config /etc/tillwatch/actions.yml\n',
    );
    expect(existsSync(at('etc/systemd/system/multi-user.target.wants/tillwatch-actions.service'))).toBe(
      false,
    );
    const wants = at('etc/systemd/system/multi-user.target.wants/tillwatch-exporter.service');
    expect(lstatSync(wants).isSymbolicLink()).toBe(true);
    expect(readlinkSync(wants)).toMatch(/\/systemd\/system\/tillwatch-exporter.service$/);
  });

  it('starts from the installed files: the wrapper, the packaged Node.js and the flags of /etc/default', async () => {
    // The wrapper and the default flags, with their absolute paths moved into the throwaway root and
    // the listen address on loopback.
    const wrapper = readFileSync(at('usr/bin/tillwatch-exporter'), 'utf8').replaceAll(
      '/opt/',
      `${root}/opt/`,
    );
    writeFileSync(join(out, 'tillwatch-exporter'), wrapper);
    const version = execFileSync('sh', [join(out, 'tillwatch-exporter'), '--version'], { encoding: 'utf8' });
    expect(version).toContain(
      `tillwatch-exporter, version ${buildInfo.version} (revision: ${buildInfo.revision})`,
    );
    expect(version).toContain(`node version: v${NODE_VERSION}\n`);

    // The agent runs from its installed bundle: a mistake in its config names the file and the key.
    const agent = readFileSync(at('usr/bin/tillwatch-actions'), 'utf8').replaceAll('/opt/', `${root}/opt/`);
    writeFileSync(join(out, 'tillwatch-actions'), agent);
    const badConfig = join(out, 'actions.yml');
    writeFileSync(
      badConfig,
      'bridge: { url: "http://127.0.0.1:9", till: c/s/t, secret_file: nope }\nallow: { x: { program: /bin/echo, args: ["a;b"] } }\n',
    );
    let failed: { status?: number; stderr?: string } = {};
    try {
      execFileSync('sh', [join(out, 'tillwatch-actions'), '--config', badConfig], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (e) {
      failed = e as { status?: number; stderr?: string };
    }
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain(`${badConfig}: allow.x.args[0]: must be one plain word`);

    const args =
      /^ARGS="(.*)"$/m.exec(readFileSync(at('etc/default/tillwatch-exporter'), 'utf8'))?.[1]?.split(' ') ??
      [];
    expect(args).toEqual(['--config=/etc/tillwatch/exporter.yml', '--web.listen-address=:9835']);
    // A web config as docs/security.md has the operator add: TLS and a scrape user (bcrypt, the packaged addon).
    copyFileSync(join(tlsDir, 'server.crt'), at('etc/tillwatch/till.crt'));
    copyFileSync(join(tlsDir, 'server.key'), at('etc/tillwatch/till.key'));
    writeFileSync(
      at('etc/tillwatch/web.yml'),
      `tls_server_config:\n  cert_file: till.crt\n  key_file: till.key\nbasic_auth_users:\n  prometheus: '${hashSync('pw', 4)}'\n`,
    );
    const port = await closedPort();
    const flags = [
      ...args.map((a) =>
        a.startsWith('--web.listen-address=')
          ? `--web.listen-address=127.0.0.1:${port}`
          : a.replace('=/etc/', `=${root}/etc/`),
      ),
      `--web.config.file=${root}/etc/tillwatch/web.yml`,
    ];
    let stderr = '';
    child = spawn('sh', [join(out, 'tillwatch-exporter'), ...flags], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const body = await waitFor(
      'the installed exporter to serve',
      () =>
        new Promise<string | undefined>((resolve, reject) => {
          const req = request(
            `https://127.0.0.1:${port}/metrics`,
            { ca: readFileSync(join(tlsDir, 'server.crt')), auth: 'prometheus:pw', agent: false },
            (res) => {
              let text = '';
              res.on('data', (c: Buffer) => (text += c.toString()));
              res.on('end', () =>
                res.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${res.statusCode}`)),
              );
            },
          );
          req.on('error', reject);
          req.end();
        }),
      { timeoutMs: 30_000 },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${stderr}`);
    });
    expect(body).toMatch(
      new RegExp(
        `^till_exporter_build_info\\{version="${buildInfo.version}",revision="${buildInfo.revision}",nodejs="v${NODE_VERSION.replaceAll('.', '\\.')}"\\} 1$`,
        'm',
      ),
    );
    expect(body).toContain('till_info{identity_chain="unconfigured"');
    expect(body).toContain('till_collector_success{collector="system"} 1');
    // The wrapper's malloc setting reaches the exporter it execs (docs/benchmarks.md, "Exporter").
    expect(readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0')).toContain(
      'GLIBC_TUNABLES=glibc.malloc.trim_threshold=131072',
    );
    child.kill('SIGTERM');
    await new Promise((r) => child?.once('exit', r));
    child = undefined;
  });

  it('purges cleanly: files, conffiles and the enablement go', () => {
    dpkg('-P', 'tillwatch-exporter');
    expect(existsSync(at('opt/tillwatch-exporter'))).toBe(false);
    expect(existsSync(at('usr/bin/tillwatch-exporter'))).toBe(false);
    expect(existsSync(at('etc/default/tillwatch-exporter'))).toBe(false);
    expect(existsSync(at('etc/systemd/system/multi-user.target.wants/tillwatch-exporter.service'))).toBe(
      false,
    );
    // A purged package leaves no record at all.
    expect(() => query('${Status}')).toThrow(/no packages found matching tillwatch-exporter/);
  });
});
