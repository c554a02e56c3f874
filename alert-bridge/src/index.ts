export { createApp, type Bridge, type AppDeps } from './app.js';
export { loadConfig, parseConfig, ConfigError, type Config } from './config.js';
export { identify, type Identity } from './identity.js';
export { KnowledgeBase, type Card, type Recommendation } from './knowledge-base.js';
export { sign, SIGNATURE_HEADER, EVENT_ID_HEADER } from './forward/webhook.js';
export { Secret } from './secret.js';
export type { TicketJson, TicketDetail } from './tickets/index.js';
