// The real Alertmanager 0.25 (Debian's `prometheus-alertmanager`) on 127.0.0.1.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LOOPBACK, freePort } from './ports.js';
import { startService } from './process.js';

export interface AlertmanagerOptions {
  /** A config file, or a config (object or YAML text) written to a temporary file. */
  configFile?: string;
  config?: unknown;
  /** Gossip between replicas; without it clustering is off. Addresses are 127.0.0.1:port. */
  cluster?: { listen: string; peers: string[] };
}

export interface RunningAlertmanager {
  url: string;
  /** The cluster listen address, '' without clustering. */
  clusterAddr: string;
  log(): string;
  stop(): Promise<void>;
}

export async function startAlertmanager(o: AlertmanagerOptions): Promise<RunningAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'tillwatch-am-'));
  let configFile = o.configFile;
  if (configFile === undefined) {
    if (o.config === undefined) throw new Error('startAlertmanager: give configFile or config');
    configFile = join(dir, 'alertmanager.yml');
    writeFileSync(configFile, typeof o.config === 'string' ? o.config : stringify(o.config));
  }
  const port = await freePort();
  const args = [
    `--config.file=${configFile}`,
    `--storage.path=${dir}`,
    `--web.listen-address=${LOOPBACK}:${port}`,
    `--web.external-url=http://${LOOPBACK}:${port}`,
    '--log.level=warn',
  ];
  if (o.cluster) {
    args.push(
      `--cluster.listen-address=${o.cluster.listen}`,
      '--cluster.peer-timeout=1s',
      '--cluster.settle-timeout=2s',
      ...o.cluster.peers.map((p) => `--cluster.peer=${p}`),
    );
  } else {
    args.push('--cluster.listen-address=');
  }
  try {
    const service = await startService('alertmanager', 'prometheus-alertmanager', args, port, {
      readyPath: '/-/ready',
    });
    return {
      url: service.url,
      clusterAddr: o.cluster?.listen ?? '',
      log: service.log,
      async stop() {
        await service.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
