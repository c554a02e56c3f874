// The exporter's configuration: one YAML file, validated once at start. Every error names the
// file, the key path and the reason, because a store technician reads them on a till's console.
import { dirname, resolve } from 'node:path';
import {
  ConfigError,
  PARSE_OPTIONS,
  TOP_LEVEL,
  parseYaml,
  positiveDurationMs,
  problemsOf,
  readConfigFile,
  type ConfigProblem,
} from '@tillwatch/config';
import { z } from 'zod';
import { registeredCollectors, type CollectorDefinition } from './collector.js';

export { ConfigError };

const label = (what: string) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'required' : `expected the ${what} as a string`) })
    .min(1, { error: 'must not be empty' })
    .regex(/^[^\s"\\{}]+$/, { error: 'must not contain spaces, quotes, braces or backslashes' });

const identitySchema = z.strictObject({
  chain: label('chain id'),
  region: label('region id'),
  store: label('store id'),
  till: label('till id'),
});

const collectorSwitchSchema = z
  .strictObject({
    enabled: z.boolean({ error: 'expected true or false' }).optional(),
    interval: positiveDurationMs.optional(),
    timeout: positiveDurationMs.optional(),
  })
  .refine((c) => c.interval === undefined || c.timeout === undefined || c.timeout <= c.interval, {
    error: 'timeout must not be longer than interval',
    path: ['timeout'],
  });

export type Identity = z.infer<typeof identitySchema>;

export interface CollectorSettings {
  enabled: boolean;
  intervalMs: number;
  timeoutMs: number;
  /** The parsed section under the collector's configKey. */
  config: unknown;
}

export interface ExporterConfig {
  /** Path of the file the config came from (or a description such as "<inline>"). */
  source: string;
  /** Directory relative paths in the config are resolved against. */
  dir: string;
  identity: Identity;
  /** Raw switches by collector name, before flags are applied. */
  switches: Record<string, z.infer<typeof collectorSwitchSchema>>;
  /** Parsed sections by configKey. */
  sections: Record<string, unknown>;
}

function collectorsByKey(defs: CollectorDefinition[]): Map<string, CollectorDefinition> {
  const byKey = new Map<string, CollectorDefinition>();
  for (const d of defs) byKey.set(d.configKey, d);
  return byKey;
}

/** Validates an already-parsed YAML document. `source` names the file in error messages. */
export function parseConfig(raw: unknown, source = '<inline>', dir = process.cwd()): ExporterConfig {
  const defs = registeredCollectors();
  const byKey = collectorsByKey(defs);
  const names = defs.map((d) => d.name).sort();
  if (raw === null || raw === undefined)
    throw new ConfigError(source, { key: TOP_LEVEL, message: 'the file is empty' });
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(source, { key: TOP_LEVEL, message: 'expected a mapping of keys' });
  const doc = raw as Record<string, unknown>;
  const problems: ConfigProblem[] = [];
  // Top-level sections come from the collectors registered at run time, so there is no one strict
  // schema to let zod name unknown keys; listing the known ones helps with a typo.
  const known = ['identity', 'collectors', ...byKey.keys()];
  for (const key of Object.keys(doc)) {
    if (!known.includes(key))
      problems.push({ key, message: `unknown key (known keys: ${known.join(', ')})` });
  }

  const identity = identitySchema.safeParse(doc.identity, PARSE_OPTIONS);
  if (!identity.success) problems.push(...problemsOf(identity.error.issues, ['identity']));

  const switches: ExporterConfig['switches'] = {};
  const rawSwitches = doc.collectors ?? {};
  if (typeof rawSwitches !== 'object' || rawSwitches === null || Array.isArray(rawSwitches)) {
    problems.push({ key: 'collectors', message: 'expected a mapping of collector names' });
  } else {
    for (const [name, value] of Object.entries(rawSwitches)) {
      if (!names.includes(name)) {
        problems.push({
          key: `collectors.${name}`,
          message: `unknown collector (known: ${names.join(', ')})`,
        });
        continue;
      }
      const parsed = collectorSwitchSchema.safeParse(value ?? {}, PARSE_OPTIONS);
      if (parsed.success) switches[name] = parsed.data;
      else problems.push(...problemsOf(parsed.error.issues, ['collectors', name]));
    }
  }

  const sections: Record<string, unknown> = {};
  for (const [key, def] of byKey) {
    const parsed = def.schema.safeParse(doc[key], PARSE_OPTIONS);
    if (parsed.success) sections[key] = parsed.data;
    else problems.push(...problemsOf(parsed.error.issues, [key]));
  }

  if (problems.length > 0 || !identity.success) throw new ConfigError(source, problems);
  return { source, dir, identity: identity.data, switches, sections };
}

/** Reads and validates a config file. Throws ConfigError naming the file, key and reason. */
export function loadConfig(file: string): ExporterConfig {
  return parseConfigText(readConfigFile(file), file, dirname(resolve(file)));
}

export function parseConfigText(text: string, source: string, dir: string): ExporterConfig {
  return parseConfig(parseYaml(text, source), source, dir);
}

/** Flags (--collector.x / --no-collector.x) win over the config, which wins over the collector's default. */
export function resolveCollectors(
  config: ExporterConfig,
  flags: Record<string, boolean> = {},
  defs: CollectorDefinition[] = registeredCollectors(),
): Map<string, CollectorSettings> {
  const out = new Map<string, CollectorSettings>();
  for (const def of defs) {
    const section = config.sections[def.configKey] ?? def.schema.parse(undefined);
    const sw = config.switches[def.name] ?? {};
    const byDefault =
      typeof def.defaultEnabled === 'function' ? def.defaultEnabled(section) : def.defaultEnabled;
    const enabled = flags[def.name] ?? sw.enabled ?? byDefault;
    const intervalMs = sw.interval ?? def.defaultIntervalSeconds * 1000;
    const timeoutMs = Math.min(sw.timeout ?? def.defaultTimeoutSeconds * 1000, intervalMs);
    out.set(def.name, { enabled, intervalMs, timeoutMs, config: section });
  }
  return out;
}
