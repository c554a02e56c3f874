// deploy/prometheus.yml checked by promtool with the rules it loads and a file_sd target file shaped like
// the one the inventory tool writes.
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REPO_DIR, ruleFiles } from './lib/rule-files.js';

const run = promisify(execFile);
const CONFIG = join(REPO_DIR, 'deploy', 'prometheus.yml');

/** A copy of deploy/ and rules/ in a temp dir, so a test can add target files without touching the repo. */
function sandbox(targets: string): string {
  const root = mkdtempSync(join(tmpdir(), 'tillwatch-prom-'));
  mkdirSync(join(root, 'deploy', 'targets'), { recursive: true });
  mkdirSync(join(root, 'rules'));
  copyFileSync(CONFIG, join(root, 'deploy', 'prometheus.yml'));
  copyFileSync(join(REPO_DIR, 'deploy', 'meta-rules.yml'), join(root, 'deploy', 'meta-rules.yml'));
  for (const f of ruleFiles()) cpSync(f, join(root, 'rules', f.split('/').pop() as string));
  writeFileSync(join(root, 'deploy', 'targets', 'tills.json'), targets);
  return join(root, 'deploy', 'prometheus.yml');
}

async function check(config: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('promtool', ['check', 'config', config]);
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe('deploy/prometheus.yml', () => {
  it('passes promtool check config, loading every rule file and an inventory target file', async () => {
    const sample = readFileSync(join(REPO_DIR, 'deploy', 'targets', 'example.json.sample'), 'utf8');
    const r = await check(sandbox(sample));
    expect(r.code, r.out).toBe(0);
    for (const f of ruleFiles()) expect(r.out).toContain(f.split('/').pop());
    // The Watchdog heartbeat beside them (deploy/meta-rules.yml).
    expect(r.out).toMatch(/meta-rules\.yml\s+SUCCESS: 1 rules found/);
    expect(r.out).toMatch(/SUCCESS: \d+ rule files found/);
  });

  it('rejects a target file that is not valid file_sd JSON', async () => {
    const r = await check(sandbox('[{"targets": "not-a-list"}]'));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/checking SD file.*cannot unmarshal/);
  });

  it('scrapes the exporter as job tillwatch-exporter from deploy/targets and the bridge on 9836', () => {
    type Cfg = {
      global: Record<string, string>;
      scrape_configs: {
        job_name: string;
        file_sd_configs?: { files: string[] }[];
        static_configs?: { targets: string[] }[];
      }[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    };
    const cfg = parseYaml(readFileSync(CONFIG, 'utf8')) as Cfg;
    // The latency budget of rules/README.md (critical fault to notification under 30 s) assumes 5 s.
    expect(cfg.global.scrape_interval).toBe('5s');
    expect(cfg.global.evaluation_interval).toBe('5s');
    const exporter = cfg.scrape_configs.find((s) => s.job_name === 'tillwatch-exporter');
    expect(exporter?.file_sd_configs?.[0]?.files).toEqual(['targets/*.json']);
    // Tills with a web config: HTTPS and basic auth, under the same job name for the rules.
    const tls = cfg.scrape_configs.find((s) => s.job_name === 'tillwatch-exporter-tls') as
      (Cfg['scrape_configs'][number] & Record<string, unknown>) | undefined;
    expect(tls).toMatchObject({
      scheme: 'https',
      tls_config: { ca_file: 'secrets/tills-ca.crt' },
      basic_auth: { username: 'prometheus', password_file: 'secrets/exporter-password' },
      file_sd_configs: [{ files: ['targets/tls/*.json'] }],
      relabel_configs: [{ target_label: 'job', replacement: 'tillwatch-exporter' }],
    });
    const bridge = cfg.scrape_configs.find((s) => s.job_name === 'tillwatch-bridge');
    expect(bridge?.static_configs?.[0]?.targets).toEqual(['127.0.0.1:9836']);
    expect(cfg.alerting.alertmanagers[0]?.static_configs[0]?.targets).toEqual(['127.0.0.1:9093']);
  });
});
