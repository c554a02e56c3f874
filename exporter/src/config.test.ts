import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYaml } from '@tillwatch/config';
import { describe, expect, it } from 'vitest';
import { registeredCollectors } from './collector.js';
import { ConfigError, loadConfig, parseConfig, resolveCollectors } from './config.js';
import './collectors/index.js';

const INVALID = fileURLToPath(new URL('./testdata/config-invalid/', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));
const names = () =>
  registeredCollectors()
    .map((d) => d.name)
    .sort()
    .join(', ');
const keys = () => ['identity', 'collectors', ...registeredCollectors().map((d) => d.configKey)].join(', ');

// One fixture per rule, each mapped to the exact message a technician will read (after the file name,
// which a YAML syntax error follows with :line:column).
const cases: Record<string, string> = {
  'empty-file.yml': '(top level): the file is empty',
  'not-a-mapping.yml': '(top level): expected a mapping of keys',
  'yaml-syntax.yml': '1:19: invalid YAML: Implicit keys need to be on a single line',
  'unknown-top-level-key.yml': `metrics_port: unknown key (known keys: ${keys()})`,
  'identity-missing.yml': 'identity: required',
  'identity-till-missing.yml': 'identity.till: required',
  'identity-label-with-space.yml': 'identity.chain: must not contain spaces, quotes, braces or backslashes',
  'identity-unknown-key.yml': 'identity.shop: unknown key',
  'collector-unknown.yml': `collectors.gpu: unknown collector (known: ${names()})`,
  'collector-bad-interval.yml':
    'collectors.system.interval: invalid duration "fast": expected a Prometheus duration such as "1h30m", "15s" or "500ms" (whole numbers; units y, w, d, h, m, s, ms, largest first)',
  'collector-timeout-over-interval.yml':
    'collectors.system.timeout: timeout must not be longer than interval',
  'collector-enabled-not-bool.yml': 'collectors.system.enabled: expected true or false',
  'clock-bad-server.yml': 'clock.servers[0]: expected host or host:port',
  'probe-unknown-kind.yml': 'probes[0].kind: expected kind tcp, dns or http',
  'probe-tcp-without-port.yml': 'probes[0].target: expected host:port',
  'probe-http-bad-url.yml': 'probes[0].target: expected an http:// or https:// URL',
  'probe-duplicate-name.yml': 'probes[1].name: duplicate probe name "ofd"',
  'process-no-matcher.yml': 'processes[0]: set executable or cmdline (or both)',
  'process-bad-regex.yml': 'processes[0].cmdline: not a valid regular expression',
  'log-missing-path.yml': 'logs[0].path: required',
  'log-bad-encoding.yml': 'logs[0].encoding: unknown text encoding',
  'peripheral-bad-kind.yml':
    'peripherals[0].kind: expected scanner, printer, scales, pinpad, drawer or other',
  'peripheral-bad-vendor.yml': 'peripherals[0].usb.vendor: expected 4 hex digits such as "0c2e"',
  'peripheral-unquoted-vendor.yml':
    'peripherals[0].usb.vendor: quote the id, e.g. "0519": unquoted YAML reads it as a number',
  'peripheral-usb-and-serial.yml': 'peripherals[0]: set exactly one of usb or serial',
  'peripheral-duplicate-device.yml': 'peripherals[1].device: duplicate device "scanner"',
};

describe('invalid config files', () => {
  it('has a case for every fixture file', () => {
    expect(readdirSync(INVALID).sort()).toEqual(Object.keys(cases).sort());
  });

  for (const [file, message] of Object.entries(cases)) {
    it(`${file}: ${message}`, () => {
      const path = join(INVALID, file);
      let err: unknown;
      try {
        loadConfig(path);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const where = /^\d+:\d+: /.test(message) ? ':' : ': ';
      expect((err as ConfigError).message).toBe(`${path}${where}${message}`);
    });
  }

  it('names a missing file', () => {
    expect(() => loadConfig('/nonexistent/tillwatch.yml')).toThrow(
      /^\/nonexistent\/tillwatch.yml: cannot read the file: ENOENT/,
    );
  });

  it('reports every problem at once, one line each', () => {
    const err = (() => {
      try {
        parseConfig(
          { identity: { chain: 'a' }, probes: [{ name: 'x', kind: 'tcp', target: 'nope' }] },
          'till.yml',
        );
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err?.message.split('\n')).toEqual([
      'till.yml: identity.region: required',
      'till.yml: identity.store: required',
      'till.yml: identity.till: required',
      'till.yml: probes[0].target: expected host:port',
    ]);
  });
});

describe('example configs', () => {
  it('minimal.yml enables only the host collectors', () => {
    const cfg = loadConfig(join(EXAMPLES, 'minimal.yml'));
    const enabled = [...resolveCollectors(cfg)].filter(([, s]) => s.enabled).map(([n]) => n);
    expect(enabled).toEqual(['system', 'software']);
  });

  it('full.yml enables every collector and points the state integrations at the emulators', () => {
    const cfg = loadConfig(join(EXAMPLES, 'full.yml'));
    const enabled = [...resolveCollectors(cfg)].filter(([, s]) => s.enabled).map(([n]) => n);
    expect(enabled.sort()).toEqual(names().split(', '));
    expect(cfg.sections.utm).toMatchObject({ url: 'http://127.0.0.1:8080' });
    expect(cfg.sections.marking).toMatchObject({ url: 'http://127.0.0.1:5995' });
    expect(readFileSync(join(EXAMPLES, 'full.yml'), 'utf8')).toContain('tcp://127.0.0.1:7778');
  });

  it('full.yml reaches nothing beyond this machine when run as is (its NTP servers and probes are on loopback)', () => {
    const doc = parseYaml(readFileSync(join(EXAMPLES, 'full.yml'), 'utf8'), 'full.yml') as {
      clock: { servers: string[] };
      probes: { target: string }[];
    };
    const local = (host: string) => /^(127\.0\.0\.1|::1|\[::1\]|localhost)$/.test(host);
    const hostOf = (target: string) =>
      /^[a-z]+:\/\//.test(target) ? new URL(target).hostname : target.replace(/:\d+$/, '');
    expect(doc.clock.servers.length).toBeGreaterThan(0);
    expect(doc.probes.length).toBeGreaterThan(0);
    for (const s of doc.clock.servers) expect(local(s), `clock server ${s}`).toBe(true);
    for (const p of doc.probes) expect(local(hostOf(p.target)), `probe ${p.target}`).toBe(true);
  });
});

describe('collector switches', () => {
  const base = { identity: { chain: 'c', region: 'r', store: 's', till: 't' } };

  it('lets flags win over the config, and the config over the default', () => {
    const cfg = parseConfig({
      ...base,
      collectors: { system: { enabled: false } },
      clock: { servers: ['ntp.example'] },
    });
    expect(resolveCollectors(cfg).get('system')?.enabled).toBe(false);
    expect(resolveCollectors(cfg, { system: true }).get('system')?.enabled).toBe(true);
    expect(resolveCollectors(cfg).get('clock')?.enabled).toBe(true);
    expect(resolveCollectors(cfg, { clock: false }).get('clock')?.enabled).toBe(false);
  });

  it('reads intervals and timeouts as durations', () => {
    const cfg = parseConfig({ ...base, collectors: { system: { interval: '1m30s', timeout: '2500ms' } } });
    expect(resolveCollectors(cfg).get('system')).toMatchObject({ intervalMs: 90_000, timeoutMs: 2500 });
  });
});
