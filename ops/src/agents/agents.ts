// Per-store edge agents generated from the inventory. A store sits behind NAT on a flaky uplink, so
// the central store cannot scrape its tills: an agent in the store scrapes them on the LAN and pushes
// with remote_write, buffering on disk while the WAN is down. Two engines, same labels:
//   - vmagent: scrape config (Prometheus syntax) + command-line flags; the store's place goes out as
//     `-remoteWrite.label` so every pushed series carries chain, region and store.
//   - Prometheus in agent mode (3.x: `--agent`; 2.32 to 2.x, Debian 12's 2.42: `--enable-feature=agent`):
//     the place as `external_labels`, buffered in its WAL. The config is the same for both.
// Till-level labels (till and extra store/till labels) stay target labels, as in file_sd.
import { join } from 'node:path';
import { parseDuration, toYaml } from '@tillwatch/config';
import type { Chain, Inventory, Region, Store } from '@tillwatch/inventory';
import { iterateStores, tillLabels } from '@tillwatch/inventory';
import { writeFileAtomic } from '../write-atomic.js';

export interface AgentOptions {
  /** Central remote-write endpoint, e.g. http://vm.example:8428/api/v1/write. */
  remoteWriteUrl: string;
  /** Scrape interval at the edge (default 10s: half the central ingestion of the single-node stack's 5 s, ~42 s worst-case alert latency instead of 27 s; see rules/README.md). */
  scrapeInterval?: string;
  /** Where the agent keeps its on-disk buffer on the store machine (one subfolder per store). */
  dataDir?: string;
  /** Cap of vmagent's on-disk buffer, bytes (default 1 GiB: ~3 days of a 10-till store at 150 series). */
  maxDiskUsageBytes?: number;
  /**
   * Series dropped at the edge before they cost WAN bytes and central storage (regex on metric
   * names). Default: none. See docs/scaling.md, "Series budget", for the opt-in lean profile.
   */
  dropMetrics?: string;
  /**
   * The store's exporters serve HTTPS with basic auth (a web config, docs/security.md): the CA file that
   * signed their certificates, and the scrape user with a file holding its password, as paths on the
   * agent host. Without it the agents scrape plain HTTP.
   */
  exporterAuth?: ExporterAuth | undefined;
}

/** How a scraper reaches exporters that have a web config: TLS verified against `caFile`, basic auth. */
export interface ExporterAuth {
  caFile: string;
  username?: string;
  passwordFile?: string;
}

/**
 * The scrape settings for exporters with a web config, in the Prometheus syntax vmagent reads too.
 * Basic auth is only ever sent over TLS, so a password never crosses the store network in clear.
 */
function exporterScrapeAuth(auth: ExporterAuth | undefined): Record<string, unknown> {
  if (!auth) return {};
  return {
    scheme: 'https',
    tls_config: { ca_file: auth.caFile },
    ...(auth.username !== undefined && {
      basic_auth: { username: auth.username, ...(auth.passwordFile && { password_file: auth.passwordFile }) },
    }),
  };
}

/** The job name rules/recording.yml and the alerts expect for till exporters. */
export const EXPORTER_JOB = 'tillwatch-exporter';

/**
 * The agent's scrape of itself. Only its `up` and `scrape_*` series are kept (every scraped metric is
 * dropped): they reach the centre only while the store's link works, so rules/network.yml's
 * TillStoreSilent can tell a store that sends nothing from one whose tills are merely down. The job exists
 * only on the agent path, so a store that a central Prometheus scrapes directly can never look silent.
 */
export const AGENT_JOB = 'tillwatch-agent';
/**
 * The store server's exporters (Debian's prometheus-node-exporter and prometheus-postgres-exporter), scraped
 * by the store's agent when the inventory names them (`stores[].server`). Only the series rules/store-server.yml
 * and the store dashboard read are kept: a node exporter alone exposes about a thousand.
 */
export const STORE_NODE_JOB = 'tillwatch-store-node';
export const STORE_POSTGRES_JOB = 'tillwatch-store-postgres';
export const STORE_NODE_KEEP =
  'node_filesystem_(avail|size)_bytes|node_filesystem_readonly|node_load1|node_memory_Mem(Available|Total)_bytes|node_boot_time_seconds|node_cpu_seconds_total';
export const STORE_POSTGRES_KEEP =
  'pg_up|pg_settings_max_connections|pg_stat_activity_count|pg_stat_activity_max_tx_duration|pg_stat_replication_pg_wal_lsn_diff|pg_database_size_bytes';

/** Where each engine serves its own /metrics (vmagent's -httpListenAddr; deploy/edge/prometheus-agent.service). */
export const AGENT_SELF = { vmagent: '127.0.0.1:8429', prometheus: '127.0.0.1:9095' } as const;

/** The opt-in lean profile (docs/scaling.md): exporter self-timing no rule or dashboard reads. */
export const LEAN_DROP_METRICS =
  'till_collector_duration_seconds|till_collector_last_success_timestamp_seconds';

export interface StoreAgent {
  store: string;
  /** chain, region, store and the store's extra labels: external labels of the agent. */
  externalLabels: Record<string, string>;
  /** vmagent `-promscrape.config` file content. */
  vmagentScrapeConfig: string;
  /** vmagent flags, one per element, paths relative to the store's folder on the agent host. */
  vmagentFlags: string[];
  /** Prometheus agent-mode config file content. */
  prometheusAgentConfig: string;
}

function sorted(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function validateOptions(opts: AgentOptions): void {
  let url: URL;
  try {
    url = new URL(opts.remoteWriteUrl);
  } catch {
    throw new Error(`--remote-write: expected an http(s) URL, got "${opts.remoteWriteUrl}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`--remote-write: expected an http(s) URL, got "${opts.remoteWriteUrl}"`);
  // Prometheus and vmagent both read scrape_interval in Prometheus' duration grammar.
  if (opts.scrapeInterval !== undefined && !((parseDuration(opts.scrapeInterval) ?? 0) > 0))
    throw new Error(`--scrape-interval: expected a duration like 10s, got "${opts.scrapeInterval}"`);
  const auth = opts.exporterAuth;
  if (auth && (auth.username === undefined) !== (auth.passwordFile === undefined))
    throw new Error('--exporter-username and --exporter-password-file go together');
  if (auth && auth.caFile === '') throw new Error('--exporter-ca-file: expected a file path');
  if (opts.dropMetrics !== undefined) {
    try {
      new RegExp(opts.dropMetrics);
    } catch {
      throw new Error(`--drop-metrics: not a valid regular expression: "${opts.dropMetrics}"`);
    }
  }
}

function scrapeConfigs(
  store: Store,
  chain: Chain,
  region: Region,
  opts: AgentOptions,
  engine: keyof typeof AGENT_SELF,
) {
  const place = new Set(['chain', 'region', 'store', ...Object.keys(store.labels ?? {})]);
  const staticConfigs = store.tills.map((till) => {
    const labels: Record<string, string> = {};
    // Place labels travel once per agent as external labels; only what differs per till stays here.
    for (const [k, v] of Object.entries(tillLabels(chain, region, store, till)))
      if (!place.has(k) || till.labels?.[k] !== undefined) labels[k] = v;
    if (till.metricsPath !== undefined) labels.__metrics_path__ = till.metricsPath;
    return { targets: [till.address], labels: sorted(labels) };
  });
  // The store's name stays on `up` alone, as in deploy/prometheus.yml.
  const relabel: Record<string, unknown>[] = [{ action: 'labeldrop', regex: 'store_name' }];
  if (opts.dropMetrics !== undefined)
    relabel.unshift({ source_labels: ['__name__'], regex: opts.dropMetrics, action: 'drop' });
  const job: Record<string, unknown> = {
    job_name: EXPORTER_JOB,
    ...exporterScrapeAuth(opts.exporterAuth),
    static_configs: staticConfigs,
    metric_relabel_configs: relabel,
  };
  const self = {
    job_name: AGENT_JOB,
    static_configs: [{ targets: [AGENT_SELF[engine]] }],
    metric_relabel_configs: [{ source_labels: ['__name__'], regex: '.+', action: 'drop' }],
  };
  const server = store.server
    ? [
        ...(store.server.node ? [[STORE_NODE_JOB, store.server.node, STORE_NODE_KEEP] as const] : []),
        ...(store.server.postgres
          ? [[STORE_POSTGRES_JOB, store.server.postgres, STORE_POSTGRES_KEEP] as const]
          : []),
      ].map(([jobName, target, keep]) => ({
        job_name: jobName,
        static_configs: [{ targets: [target] }],
        metric_relabel_configs: [{ source_labels: ['__name__'], regex: keep, action: 'keep' }],
      }))
    : [];
  return [job, self, ...server];
}

const HEADER = (store: string, engine: string) =>
  `# ${engine} for store ${store}. Generated by \`tillwatch inventory agents\` from the inventory:\n` +
  '# edit the inventory and regenerate, not this file.\n';

/** The agent configs of one store. */
export function storeAgent(chain: Chain, region: Region, store: Store, opts: AgentOptions): StoreAgent {
  validateOptions(opts);
  const interval = opts.scrapeInterval ?? '10s';
  const externalLabels = sorted({ ...store.labels, chain: chain.id, region: region.id, store: store.id });
  const global = { scrape_interval: interval };
  const vmagentScrapeConfig =
    HEADER(store.id, 'vmagent -promscrape.config') +
    toYaml({ global, scrape_configs: scrapeConfigs(store, chain, region, opts, 'vmagent') });
  const dataDir = join(opts.dataDir ?? '/var/lib/tillwatch-agent', store.id);
  const vmagentFlags = [
    '-promscrape.config=vmagent.yml',
    `-remoteWrite.url=${opts.remoteWriteUrl}`,
    ...Object.entries(externalLabels).map(([k, v]) => `-remoteWrite.label=${k}=${v}`),
    `-remoteWrite.tmpDataPath=${join(dataDir, 'vmagent')}`,
    `-remoteWrite.maxDiskUsagePerURL=${opts.maxDiskUsageBytes ?? 1024 ** 3}`,
    // The agent answers only on the store machine (its own /metrics for the store's health).
    `-httpListenAddr=${AGENT_SELF.vmagent}`,
  ];
  const prometheusAgentConfig =
    HEADER(store.id, 'Prometheus agent mode (3.x: --agent; 2.x: --enable-feature=agent)') +
    toYaml({
      global: { ...global, external_labels: externalLabels },
      scrape_configs: scrapeConfigs(store, chain, region, opts, 'prometheus'),
      remote_write: [
        {
          url: opts.remoteWriteUrl,
          // After an outage the WAL holds hours of samples: larger batches drain it faster.
          queue_config: { max_samples_per_send: 5000, batch_send_deadline: '5s' },
        },
      ],
    });
  return { store: store.id, externalLabels, vmagentScrapeConfig, vmagentFlags, prometheusAgentConfig };
}

/** Agent configs for every store of the inventory, in file order. */
export function* storeAgents(inv: Inventory, opts: AgentOptions): Generator<StoreAgent> {
  validateOptions(opts);
  for (const { chain, region, store } of iterateStores(inv)) yield storeAgent(chain, region, store, opts);
}

/**
 * Writes `<dir>/<store>/vmagent.yml`, `vmagent.flags` (one flag a line, for an EnvironmentFile or
 * `xargs`) and `prometheus-agent.yml` for every store. Returns the number of stores.
 */
export function writeStoreAgents(inv: Inventory, dir: string, opts: AgentOptions): number {
  let n = 0;
  for (const a of storeAgents(inv, opts)) {
    const d = join(dir, a.store);
    writeFileAtomic(join(d, 'vmagent.yml'), a.vmagentScrapeConfig);
    writeFileAtomic(join(d, 'vmagent.flags'), `${a.vmagentFlags.join('\n')}\n`);
    writeFileAtomic(join(d, 'prometheus-agent.yml'), a.prometheusAgentConfig);
    n++;
  }
  return n;
}
