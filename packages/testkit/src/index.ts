// @tillwatch/testkit: what the tests and benches of every package share. Test-only: no shipped
// package depends on it.
export { LOOPBACK, freePort, freePorts, closedPort, listen, close } from './ports.js';
export { waitFor, StopWaiting, type WaitOptions } from './wait.js';
export {
  startProcess,
  startService,
  type Proc,
  type ProcessOptions,
  type Service,
  type ServiceOptions,
} from './process.js';
export {
  startPrometheus,
  prometheusAgentFlag,
  prometheusMajor,
  instantQuery,
  type PrometheusOptions,
  type QueryResponse,
  type RunningPrometheus,
  type VectorSample,
} from './prometheus.js';
export {
  startHistoryPrometheus,
  writeOpenMetrics,
  type HistoryOptions,
  type HistoryPrometheus,
  type Series,
} from './backfill.js';
export { startAlertmanager, type AlertmanagerOptions, type RunningAlertmanager } from './alertmanager.js';
export { startVictoriaMetrics, exportSeries, type ExportedSeries } from './victoria-metrics.js';
export { startMetricsServer, type MetricsServer } from './http.js';
export {
  parseExposition,
  metricTypes,
  seriesValue,
  scrapeValue,
  type ExpositionSample,
} from './exposition.js';
export { tillCapture, type CapturedSeries } from './till-capture.js';
export { REPO_DIR, repoPath, shippedFlags } from './repo.js';
export { selfSignedCert, signedCert } from './tls.js';
export { FULL_INVENTORY } from './fixtures.js';
export { METRICS_DOC, readMetricContract, type MetricDocEntry } from './metrics-doc.js';
export { seededRandom } from './random.js';
export { openPtyPair, type PtyPair } from './pty.js';
export { PG_URL, uniqueSchemaName, dropSchema } from './postgres.js';
export { anchor, headingAnchors } from './markdown.js';
export {
  promtoolAlerts,
  firstMetrics,
  TILL_TARGET,
  type FiringAlert,
  type PromtoolAlertsOptions,
} from './promtool-alerts.js';
export { startCups, type RunningCups } from './cups.js';
export { startPgCluster, type PgCluster } from './pg-cluster.js';
export {
  loadFixture,
  bytes,
  hexOf,
  localSeconds,
  withSeconds,
  shtrihFixtureSchema,
  atolFixtureSchema,
  utmFixtureSchema,
  markingFixtureSchema,
  type ProtocolName,
} from './protocol-fixtures.js';
export {
  runSoak,
  unitNodeFlags,
  unitEnvironment,
  unitMemoryMaxBytes,
  memoryOf,
  cpuSecondsOf,
  REPO_ROOT,
  type SoakOptions,
  type SoakResult,
} from './soak.js';
