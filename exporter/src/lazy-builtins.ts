// Builtins the exporter needs only with some configs (TLS, basic auth, an ATOL registrar, the SNTP and
// DNS probes), loaded on first use instead of at start: each loaded builtin keeps its source and compiled
// code resident, node:tls with node:crypto most of all, which a plain-HTTP till never uses
// (docs/benchmarks.md, "Exporter"). Through require() because the callers are synchronous; Node caches
// the module, so a call after the first costs a lookup.
import { createRequire } from 'node:module';
import type * as Crypto from 'node:crypto';
import type * as Dgram from 'node:dgram';
import type * as Dns from 'node:dns/promises';
import type * as FsPromises from 'node:fs/promises';
import type * as Tls from 'node:tls';

const require = createRequire(import.meta.url);

export const tls = (): typeof Tls => require('node:tls') as typeof Tls;
export const crypto = (): typeof Crypto => require('node:crypto') as typeof Crypto;
export const dgram = (): typeof Dgram => require('node:dgram') as typeof Dgram;
export const dns = (): typeof Dns => require('node:dns/promises') as typeof Dns;
/** For a FileHandle (the log tailers); the rest use fs-async.ts, which says why. */
export const fsPromises = (): typeof FsPromises => require('node:fs/promises') as typeof FsPromises;
