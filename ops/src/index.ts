// Library API of @tillwatch/ops: the inventory model and what is generated from it.
export {
  DEVICE_KINDS,
  InventoryError,
  formatPath,
  inventorySchema,
  iterateStores,
  iterateTills,
  loadInventory,
  parseInventory,
  tillLabels,
  validateInventory,
} from './inventory.js';
export type {
  Chain,
  Device,
  Inventory,
  InventoryInput,
  Region,
  Store,
  Till,
  TillEntry,
} from './inventory.js';
export { TARGETS_FILE, renderFileSd, toFileSd, writeFileSd } from './file-sd.js';
export type { FileSdGroup } from './file-sd.js';
export { DEMO_DEFAULTS, generateDemoInventory, renderInventory } from './demo.js';
export type { DemoOptions } from './demo.js';
export { writeFileAtomic } from './write-atomic.js';
export { allDashboards, renderDashboard, writeDashboards } from './dashboards/index.js';
export {
  AGENT_JOB,
  EXPORTER_JOB,
  LEAN_DROP_METRICS,
  storeAgent,
  storeAgents,
  writeStoreAgents,
} from './agents/agents.js';
export type { AgentOptions, StoreAgent } from './agents/agents.js';
export * as backtesting from './backtest/index.js';
export * as forecasting from './forecast/index.js';
