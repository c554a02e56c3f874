// The alert bridge's test helpers: a bridge on a fresh SQLite file or PostgreSQL schema, Alertmanager
// payload builders, HMAC-checking receivers, a real Redmine and Request Tracker, a real Alertmanager routing to the bridge.
export * from './helpers.js';
export * from './alertmanager.js';
export * from './receivers.js';
export * from './redmine.js';
export * from './rt.js';
export * from './people.js';
export * from './web-client.js';
