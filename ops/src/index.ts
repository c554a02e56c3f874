// Library API of @tillwatch/ops: what the operator tools generate from an inventory (file_sd targets,
// store agents) and the rule backtest and forecast. The inventory model itself is @tillwatch/inventory.
export { TARGETS_FILE, renderFileSd, toFileSd, writeFileSd } from './file-sd.js';
export type { FileSdGroup } from './file-sd.js';
export { writeFileAtomic } from './write-atomic.js';
export { MIN_VERSION_RECORD, MIN_VERSIONS_FILE, renderMinVersionRules } from './min-versions.js';
export {
  AGENT_JOB,
  EXPORTER_JOB,
  LEAN_DROP_METRICS,
  STORE_NODE_JOB,
  STORE_NODE_KEEP,
  STORE_POSTGRES_JOB,
  STORE_POSTGRES_KEEP,
  storeAgent,
  storeAgents,
  writeStoreAgents,
} from './agents/agents.js';
export type { AgentOptions, ExporterAuth, StoreAgent } from './agents/agents.js';
export * as backtesting from './backtest/index.js';
export * as forecasting from './forecast/index.js';
