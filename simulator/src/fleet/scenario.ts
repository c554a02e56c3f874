// Scenario files: timed fault events plus slow-burn initial conditions, validated with zod. Every
// problem names the file and the key path (`demo.yml: events[2].fault: ...`), like the exporter config.
import {
  ConfigError,
  durationMs,
  parseWith,
  parseYaml,
  readConfigFile,
  type ConfigProblem,
} from '@tillwatch/config';
import { z } from 'zod';
import {
  FAULT_NEEDS,
  STORE_FAULTS,
  TILL_FAULTS,
  isStoreFault,
  isTillFault,
  type StoreFault,
  type TillFault,
} from './faults.js';

/** A Prometheus duration ("30s", "1h30m", "20d"), in seconds: the unit of the fleet's clocks. */
const seconds = durationMs.transform((ms) => ms / 1000);

const percent = z
  .number({ error: 'expected a percentage (a number from 0 to 100)' })
  .min(0, { error: 'expected a percentage from 0 to 100' })
  .max(100, { error: 'expected a percentage from 0 to 100' });

const eventSchema = z
  .strictObject({
    /** Wall-clock time after the fleet is ready. */
    at: seconds,
    till: z.string().min(1).optional(),
    store: z.string().min(1).optional(),
    fault: z.string({ error: 'required' }),
    /** Cleared after this long (wall clock); stays on when absent. */
    duration: seconds.optional(),
  })
  .superRefine((e, ctx) => {
    if ((e.till === undefined) === (e.store === undefined))
      ctx.addIssue({ code: 'custom', path: ['till'], message: 'set exactly one of till or store' });
    else if (e.till !== undefined && !isTillFault(e.fault))
      ctx.addIssue({
        code: 'custom',
        path: ['fault'],
        message: `unknown till fault "${e.fault}" (known: ${TILL_FAULTS.join(', ')})`,
      });
    else if (e.store !== undefined && !isStoreFault(e.fault))
      ctx.addIssue({
        code: 'custom',
        path: ['fault'],
        message: `unknown store fault "${e.fault}" (known: ${STORE_FAULTS.join(', ')})`,
      });
  });

/** Slow-burn starting points; times are simulated (they age with --speed). */
const conditionSchema = z
  .strictObject({
    till: z.string({ error: 'required' }).min(1),
    /** The FN expires this far ahead. */
    fn_expires_in: seconds.optional(),
    /** The FN can still sign this many documents. */
    fn_documents_remaining: z.number().int().min(0).optional(),
    /** The registrar's OFD link has been down this long: the backlog is that old and growing. */
    ofd_down_since: seconds.optional(),
    /** Registrar clock drift per simulated day, e.g. "90s". */
    clock_drift_per_day: seconds.optional(),
    /** The UTM's GOST certificate expires this far ahead. */
    utm_cert_expires_in: seconds.optional(),
    /** The marking module last synchronised this long ago and is stuck (does not sync again). */
    marking_sync_stuck_since: seconds.optional(),
    /** Free share of the till's disk, and how fast it fills (per simulated day). */
    disk_free_percent: percent.optional(),
    disk_fill_percent_per_day: percent.optional(),
    /** Receipts left on the paper roll; the paper runs out after them (see receipts_per_hour). */
    paper_receipts_left: z.number().int().min(0).optional(),
  })
  .refine((c) => Object.keys(c).length > 1, { error: 'set at least one condition besides till' });

export const scenarioSchema = z.strictObject({
  /** Simulated seconds per real second for the slow processes; --speed wins. */
  speed: z.number().positive({ error: 'expected a positive number' }).optional(),
  seed: z.number().int().optional(),
  /** Receipts each till prints per simulated hour (paper, OFD queue, FN documents). */
  receipts_per_hour: z.number().min(0).default(30),
  events: z.array(eventSchema, { error: 'expected a list of events' }).default([]),
  conditions: z.array(conditionSchema, { error: 'expected a list of conditions' }).default([]),
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Condition = z.infer<typeof conditionSchema>;

export type ScenarioEvent =
  | { at: number; duration?: number; till: string; fault: TillFault }
  | { at: number; duration?: number; store: string; fault: StoreFault };

export interface Scenario {
  source: string;
  speed?: number;
  seed?: number;
  receiptsPerHour: number;
  events: ScenarioEvent[];
  conditions: Condition[];
}

/**
 * Validates a parsed scenario. `known` (the inventory's till and store ids) catches typos in ids.
 * Throws the config kit's ConfigError, every problem as `file: key.path: reason`.
 */
export function parseScenario(
  raw: unknown,
  source = '<inline>',
  known?: { tills: ReadonlySet<string>; stores: ReadonlySet<string> },
): Scenario {
  const d = parseWith(scenarioSchema, raw ?? {}, source);
  const problems: ConfigProblem[] = [];
  if (known) {
    d.events.forEach((e, i) => {
      if (e.till !== undefined && !known.tills.has(e.till))
        problems.push({
          key: `events[${i}].till`,
          message: `unknown till "${e.till}" (not in the inventory)`,
        });
      if (e.store !== undefined && !known.stores.has(e.store))
        problems.push({
          key: `events[${i}].store`,
          message: `unknown store "${e.store}" (not in the inventory)`,
        });
    });
    d.conditions.forEach((c, i) => {
      if (!known.tills.has(c.till))
        problems.push({
          key: `conditions[${i}].till`,
          message: `unknown till "${c.till}" (not in the inventory)`,
        });
    });
  }
  if (problems.length > 0) throw new ConfigError(source, problems);
  return {
    source,
    ...(d.speed !== undefined && { speed: d.speed }),
    ...(d.seed !== undefined && { seed: d.seed }),
    receiptsPerHour: d.receipts_per_hour,
    events: d.events.map((e) => {
      const base = { at: e.at, ...(e.duration !== undefined && { duration: e.duration }) };
      return e.till !== undefined
        ? { ...base, till: e.till, fault: e.fault as TillFault }
        : { ...base, store: e.store as string, fault: e.fault as StoreFault };
    }),
    conditions: d.conditions,
  };
}

export function parseScenarioText(
  text: string,
  source: string,
  known?: { tills: ReadonlySet<string>; stores: ReadonlySet<string> },
): Scenario {
  return parseScenario(parseYaml(text, source), source, known);
}

export function loadScenario(
  file: string,
  known?: { tills: ReadonlySet<string>; stores: ReadonlySet<string> },
): Scenario {
  return parseScenarioText(readConfigFile(file), file, known);
}

/** Events and conditions that act on a device the till does not have are errors, not silent no-ops. */
export function checkScenarioDevices(
  scenario: Scenario,
  tills: ReadonlyMap<string, { utm: boolean; marking: boolean; scanner: boolean }>,
): void {
  const problems: ConfigProblem[] = [];
  const lacks = (till: string, device: 'utm' | 'marking' | 'scanner') => tills.get(till)?.[device] === false;
  const name = { utm: 'EGAIS UTM', marking: 'marking module', scanner: 'scanner' };
  scenario.events.forEach((e, i) => {
    if (!('till' in e)) return;
    const need = FAULT_NEEDS[e.fault];
    if (need && lacks(e.till, need))
      problems.push({
        key: `events[${i}].fault`,
        message: `${e.fault}: till ${e.till} has no ${name[need]}`,
      });
  });
  scenario.conditions.forEach((c, i) => {
    if (c.utm_cert_expires_in !== undefined && lacks(c.till, 'utm'))
      problems.push({
        key: `conditions[${i}].utm_cert_expires_in`,
        message: `till ${c.till} has no ${name.utm}`,
      });
    if (c.marking_sync_stuck_since !== undefined && lacks(c.till, 'marking'))
      problems.push({
        key: `conditions[${i}].marking_sync_stuck_since`,
        message: `till ${c.till} has no ${name.marking}`,
      });
  });
  if (problems.length > 0) throw new ConfigError(scenario.source, problems);
}
