// Public API: the CLI, the fleet simulator and the tests build exporters through these.
import './collectors/index.js';

export { createExporter, type Exporter, type ExporterOptions, type Snapshot } from './exporter.js';
export {
  loadConfig,
  parseConfig,
  parseConfigText,
  resolveCollectors,
  ConfigError,
  type ExporterConfig,
} from './config.js';
export {
  startWebServer,
  loadWebConfig,
  parseListenAddress,
  DEFAULT_TELEMETRY_PATH,
  DEFAULT_WEB_LIMITS,
  type WebConfig,
  type WebLimits,
  type WebServer,
  type WebServerOptions,
} from './web.js';
export { DEFAULT_AUTH_LIMITS, type AuthLimits } from './web-auth.js';
export { registerCollector, registeredCollectors } from './collector.js';
export type * from './collector.js';
export type * from './host.js';
export { REVISION, VERSION } from './version.js';
export const DEFAULT_LISTEN_ADDRESS = ':9835';
