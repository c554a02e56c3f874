// The till's remote-action agent (`@tillwatch/exporter/actions`).
export { ActionAgent, run, type ActionReport, type Outcome, type PendingAction } from './agent.js';
export { PRESETS, presetArgv, type Platform } from './catalog.js';
export {
  ACTION_NAME,
  ARGUMENT,
  CHOICE,
  loadAgentConfig,
  parseAgentConfig,
  type AgentConfig,
  type AllowedAction,
} from './config.js';
export * from './sign.js';
