// Host clock versus NTP: the FN rejects documents whose time is more than 5 minutes off its timer,
// so a drifting PC clock is an early warning. An SNTP (RFC 4330) query is one 48-byte UDP packet;
// it is written here because the npm SNTP clients are unmaintained (@hapi/sntp is deprecated) and
// none takes an AbortSignal, which the collector timeout needs.
import { z } from 'zod';
import { registerCollector, type MetricFamily } from '../collector.js';
import { positiveDurationMs } from '@tillwatch/config';
import { dgram } from '../lazy-builtins.js';

const schema = z
  .strictObject({
    /** NTP servers as host or host:port, tried in order until one answers. */
    servers: z
      .array(z.string().regex(/^[^\s:]+(:\d{1,5})?$/, { error: 'expected host or host:port' }))
      .default([]),
    /** How long to wait for one server before trying the next. */
    server_timeout: positiveDurationMs.default(2000),
  })
  .default({ servers: [], server_timeout: 2000 });

/** Seconds between 1900-01-01 (NTP era 0) and 1970-01-01. */
const NTP_EPOCH_OFFSET = 2_208_988_800;

function writeTimestamp(buf: Buffer, offset: number, ms: number): void {
  const seconds = Math.floor(ms / 1000) + NTP_EPOCH_OFFSET;
  const fraction = Math.round(((ms % 1000) / 1000) * 2 ** 32);
  buf.writeUInt32BE(seconds >>> 0, offset);
  buf.writeUInt32BE(Math.min(fraction, 2 ** 32 - 1), offset + 4);
}

function readTimestamp(buf: Buffer, offset: number): number {
  const seconds = buf.readUInt32BE(offset);
  const fraction = buf.readUInt32BE(offset + 4);
  // Era 1 starts in 2036: seconds values with the top bit clear belong to it (RFC 4330 section 3).
  const era = seconds < 0x80000000 ? 2 ** 32 : 0;
  return (seconds + era - NTP_EPOCH_OFFSET) * 1000 + (fraction / 2 ** 32) * 1000;
}

/** Sends one SNTP client request; resolves with (server time - local time) in ms. */
export function sntpOffset(
  host: string,
  port: number,
  signal: AbortSignal,
  now: () => number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const family = host.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram().createSocket(family);
    const done = (err: Error | null, value?: number) => {
      signal.removeEventListener('abort', onAbort);
      socket.close();
      if (err) reject(err);
      else resolve(value as number);
    };
    const onAbort = () => done(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    const request = Buffer.alloc(48);
    request[0] = (0 << 6) | (4 << 3) | 3; // LI 0, version 4, mode 3 (client)
    const t1 = now();
    writeTimestamp(request, 40, t1);
    const sentOriginate = request.subarray(40, 48);
    socket.on('error', (err) => done(err));
    socket.on('message', (msg) => {
      const t4 = now();
      if (msg.length < 48) return done(new Error(`short SNTP reply (${msg.length} bytes)`));
      const mode = (msg[0] as number) & 0x7;
      const stratum = msg[1] as number;
      if (mode !== 4 && mode !== 5) return done(new Error(`SNTP reply has mode ${mode}`));
      if (stratum === 0) return done(new Error('SNTP kiss-o-death reply'));
      if (!msg.subarray(24, 32).equals(sentOriginate))
        return done(new Error('SNTP reply does not match the request'));
      const t2 = readTimestamp(msg, 32);
      const t3 = readTimestamp(msg, 40);
      done(null, (t2 - t1 + (t3 - t4)) / 2);
    });
    socket.send(request, port, host, (err) => {
      if (err) done(err);
    });
  });
}

registerCollector({
  name: 'clock',
  configKey: 'clock',
  schema,
  defaultEnabled: (c) => c.servers.length > 0,
  defaultIntervalSeconds: 60,
  defaultTimeoutSeconds: 5,
  create(config, env) {
    const now = env.now ?? Date.now;
    return {
      devices: [],
      async collect(ctx) {
        let offsetMs: number | undefined;
        for (const server of config.servers) {
          const [host, port] = server.split(':') as [string, string | undefined];
          try {
            const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(config.server_timeout)]);
            offsetMs = await sntpOffset(host, port ? Number(port) : 123, signal, now);
            break;
          } catch (err) {
            if (ctx.signal.aborted) throw err;
            ctx.logger.debug({ server, err: (err as Error).message }, 'NTP server did not answer');
          }
        }
        const families: MetricFamily[] = [
          {
            name: 'till_clock_sync_success',
            help: 'Whether an NTP server answered in the last poll.',
            type: 'gauge',
            samples: [{ labels: {}, value: offsetMs === undefined ? 0 : 1 }],
          },
        ];
        if (offsetMs !== undefined) {
          families.push({
            name: 'till_clock_offset_seconds',
            help: 'Host clock minus NTP time.',
            type: 'gauge',
            // The SNTP offset is server minus local; the contract is host minus NTP.
            samples: [{ labels: {}, value: -offsetMs / 1000 }],
          });
        }
        return { families };
      },
    };
  },
});
