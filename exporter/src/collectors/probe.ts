// Network probes in the blackbox_exporter shape: can this till reach the OFD server, EGAIS, the store
// server, DNS, the HQ VPN? All probes of one run go out in parallel, each with its own timeout.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { resolve } from 'node:path';
import { z } from 'zod';
import { registerCollector, type MetricFamily, type Sample } from '../collector.js';
import { positiveDurationMs } from '@tillwatch/config';
import { dns } from '../lazy-builtins.js';

const name = z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected letters, digits, "_", "." or "-"' });
const hostPort = z.string().regex(/^(\[[^\]]+\]|[^\s:[\]]+):\d{1,5}$/, { error: 'expected host:port' });

const probeSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      name,
      kind: z.literal('tcp'),
      target: hostPort,
      timeout: positiveDurationMs.optional(),
    }),
    z.strictObject({
      name,
      kind: z.literal('dns'),
      /** Name to resolve. */
      target: z.string().min(1),
      /** Resolver as ip or ip:port (default: the system resolver). */
      server: z.string().min(1).optional(),
      record_type: z.enum(['A', 'AAAA']).default('A'),
      timeout: positiveDurationMs.optional(),
    }),
    z.strictObject({
      name,
      kind: z.literal('http'),
      /** http:// or https:// URL; https probes also report the certificate expiry. */
      target: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
      method: z.enum(['GET', 'HEAD']).default('GET'),
      valid_status_codes: z.array(z.number().int().min(100).max(599)).optional(),
      /** PEM file of extra CAs for a self-signed store server. */
      ca_file: z.string().min(1).optional(),
      insecure_skip_verify: z.boolean().default(false),
      timeout: positiveDurationMs.optional(),
    }),
  ],
  { error: 'expected kind tcp, dns or http' },
);

const schema = z
  .array(probeSchema)
  .default([])
  .superRefine((probes, ctx) => {
    const seen = new Set<string>();
    probes.forEach((p, i) => {
      if (seen.has(p.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate probe name "${p.name}"` });
      seen.add(p.name);
    });
  });

type Probe = z.infer<typeof probeSchema>;

interface Outcome {
  success: boolean;
  certExpiryMs?: number;
}

function splitHostPort(target: string): { host: string; port: number } {
  const i = target.lastIndexOf(':');
  return { host: target.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(target.slice(i + 1)) };
}

function probeTcp(target: string, signal: AbortSignal): Promise<Outcome> {
  const { host, port } = splitHostPort(target);
  return new Promise((res) => {
    const socket = connect({ host, port, signal });
    socket.once('connect', () => {
      socket.destroy();
      res({ success: true });
    });
    socket.once('error', () => res({ success: false }));
  });
}

async function probeDns(p: Extract<Probe, { kind: 'dns' }>, signal: AbortSignal): Promise<Outcome> {
  const resolver = new (dns().Resolver)({ timeout: 2000, tries: 2 });
  if (p.server) resolver.setServers([p.server]);
  const cancel = () => resolver.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  try {
    const answers =
      p.record_type === 'A' ? await resolver.resolve4(p.target) : await resolver.resolve6(p.target);
    return { success: answers.length > 0 };
  } catch {
    return { success: false };
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

// node:http(s) rather than fetch: fetch does not expose the peer certificate, and the https
// module is loaded only when an https probe is configured (its RSS: docs/benchmarks.md, "Exporter").
async function probeHttp(
  p: Extract<Probe, { kind: 'http' }>,
  ca: Buffer | undefined,
  signal: AbortSignal,
): Promise<Outcome> {
  const url = new URL(p.target);
  const request = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  return new Promise((res) => {
    let certExpiryMs: number | undefined;
    const req = request(
      url,
      {
        method: p.method,
        signal,
        agent: false,
        headers: { 'User-Agent': 'tillwatch-exporter' },
        ...(url.protocol === 'https:' && { rejectUnauthorized: !p.insecure_skip_verify, ...(ca && { ca }) }),
      },
      (resp) => {
        resp.resume();
        const code = resp.statusCode ?? 0;
        const ok = p.valid_status_codes ? p.valid_status_codes.includes(code) : code >= 200 && code < 300;
        resp.on('end', () => res({ success: ok, ...(certExpiryMs !== undefined && { certExpiryMs }) }));
        resp.on('error', () => res({ success: false }));
      },
    );
    req.on('socket', (socket) => {
      socket.once('secureConnect', () => {
        const cert = (socket as TLSSocket).getPeerCertificate();
        if (cert?.valid_to) certExpiryMs = Date.parse(cert.valid_to);
      });
    });
    req.on('error', () => res({ success: false, ...(certExpiryMs !== undefined && { certExpiryMs }) }));
    req.end();
  });
}

registerCollector({
  name: 'probe',
  configKey: 'probes',
  schema,
  defaultEnabled: (probes) => probes.length > 0,
  defaultIntervalSeconds: 30,
  defaultTimeoutSeconds: 10,
  create(probes, env) {
    const now = env.now ?? Date.now;
    const cas = new Map<string, Buffer>();
    for (const p of probes) {
      if (p.kind === 'http' && p.ca_file) cas.set(p.name, readFileSync(resolve(env.configDir, p.ca_file)));
    }
    return {
      devices: [],
      async collect(ctx) {
        const results = await Promise.all(
          probes.map(async (p) => {
            const signal = p.timeout
              ? AbortSignal.any([ctx.signal, AbortSignal.timeout(p.timeout)])
              : ctx.signal;
            const started = now();
            let outcome: Outcome;
            try {
              if (p.kind === 'tcp') outcome = await probeTcp(p.target, signal);
              else if (p.kind === 'dns') outcome = await probeDns(p, signal);
              else outcome = await probeHttp(p, cas.get(p.name), signal);
            } catch {
              outcome = { success: false };
            }
            return { p, outcome, seconds: (now() - started) / 1000 };
          }),
        );
        // A probe cut short by the collector timeout is a failed run, not a failed probe.
        if (ctx.signal.aborted)
          throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted');
        const success: Sample[] = [];
        const duration: Sample[] = [];
        const expiry: Sample[] = [];
        for (const { p, outcome, seconds } of results) {
          success.push({ labels: { probe: p.name, kind: p.kind }, value: outcome.success ? 1 : 0 });
          duration.push({ labels: { probe: p.name, kind: p.kind }, value: seconds });
          if (outcome.certExpiryMs !== undefined)
            expiry.push({ labels: { probe: p.name }, value: outcome.certExpiryMs / 1000 });
        }
        const families: MetricFamily[] = [
          {
            name: 'till_probe_success',
            help: 'Whether the probe succeeded.',
            type: 'gauge',
            samples: success,
          },
          {
            name: 'till_probe_duration_seconds',
            help: 'How long the probe took.',
            type: 'gauge',
            samples: duration,
          },
          {
            name: 'till_probe_tls_cert_expiry_timestamp_seconds',
            help: "Expiry of the peer's leaf certificate (https probes).",
            type: 'gauge',
            samples: expiry,
          },
        ];
        return { families: families.filter((f) => f.samples.length > 0) };
      },
    };
  },
});
