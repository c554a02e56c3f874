// Library API of @tillwatch/ops: what the operator tools generate from an inventory (file_sd targets,
// store agents) and the rule backtest and forecast. The inventory model itself is @tillwatch/inventory.
export { TARGETS_FILE, renderFileSd, toFileSd, writeFileSd } from './file-sd.js';
export type { FileSdGroup } from './file-sd.js';
export { writeFileAtomic } from './write-atomic.js';
export {
  AGENT_JOB,
  EXPORTER_JOB,
  LEAN_DROP_METRICS,
  storeAgent,
  storeAgents,
  writeStoreAgents,
} from './agents/agents.js';
export type { AgentOptions, ExporterAuth, StoreAgent } from './agents/agents.js';
export * as backtesting from './backtest/index.js';
export * as forecasting from './forecast/index.js';
