// The fleet inventory: chain → region → store → till → devices, in one YAML file.
// It is the single source for Prometheus file_sd targets (so every series carries chain, region,
// store and till labels) and, later, for per-store agent configs with external labels.
import {
  ConfigError,
  PARSE_OPTIONS,
  formatKeyPath,
  parseYaml,
  problemsOf,
  readConfigFile,
  type ConfigProblem,
} from '@tillwatch/config';
import { z } from 'zod';
import {
  closuresSchema,
  holidaysSchema,
  hoursSchema,
  resolveCalendar,
  type CalendarStore,
} from './calendar.js';

/** Device kinds, the same vocabulary as the `kind` label in docs/metrics.md. */
export const DEVICE_KINDS = [
  'fiscal',
  'scanner',
  'printer',
  'scales',
  'pinpad',
  'drawer',
  'utm',
  'marking',
  'other',
] as const;

// Ids become label values and, for stores, file names of generated agent configs: keep them to
// characters that are safe in both and survive a round trip through a URL.
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const id = z
  .string({ error: 'expected a string' })
  .regex(ID_RE, { error: "expected an id of letters, digits, '.', '_' or '-'" });

// host:port where host is a name, an IPv4 address or a bracketed IPv6 address; Prometheus
// accepts nothing else as a target address (no scheme, no path).
const HOST_PORT_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;
const hostPort = z.string({ error: 'expected host:port' }).refine(
  (s) => {
    const m = HOST_PORT_RE.exec(s);
    const port = Number(m?.[1]);
    return m !== null && port >= 1 && port <= 65535;
  },
  { error: 'expected host:port' },
);

const HIERARCHY_LABELS = ['chain', 'region', 'store', 'till'];
const labelValues = z.record(
  z
    .string()
    .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, { error: 'expected a Prometheus label name' })
    .refine((k) => !k.startsWith('__'), { error: "label names starting with '__' are reserved" })
    .refine((k) => !HIERARCHY_LABELS.includes(k), {
      error: 'chain, region, store and till labels come from the hierarchy',
    }),
  z.string({ error: 'expected a string' }),
  // Only the type error is ours; key errors keep the key schema's own message (see problemsOf).
  { error: (iss) => (iss.code === 'invalid_type' ? 'expected a map of label names to strings' : undefined) },
);

const deviceSchema = z.strictObject(
  {
    /** The exporter's device name: becomes the `device` label. */
    name: id,
    kind: z.enum(DEVICE_KINDS, { error: `expected one of ${DEVICE_KINDS.join(', ')}` }),
    /** Driver the exporter uses for the device (`shtrih`, `atol`, `utm`, `marking`, `usb`, ...). */
    driver: z.string().optional(),
    model: z.string().optional(),
    /** USB vendor:product id, for peripherals the exporter finds by enumeration. */
    usb: z
      .string()
      .regex(/^[0-9a-f]{4}:[0-9a-f]{4}$/, { error: 'expected a USB id like 0c2e:0b61 (lower-case hex)' })
      .optional(),
    /** Where the device answers (TCP host:port or URL), when it is not local to the exporter. */
    endpoint: z.string().optional(),
  },
  { error: 'expected a device map' },
);

const tillSchema = z.strictObject(
  {
    id,
    /** Where Prometheus scrapes the till's exporter. */
    address: hostPort,
    /** Only when the exporter does not serve /metrics (e.g. the fleet simulator's per-till paths). */
    metricsPath: z.string().startsWith('/', { error: "expected a path starting with '/'" }).optional(),
    /** Extra target labels for this till only. */
    labels: labelValues.optional(),
    devices: z.array(deviceSchema, { error: 'expected a list of devices' }).default([]),
  },
  { error: 'expected a till map' },
);

/** An IANA time zone (Europe/Moscow, Asia/Yekaterinburg): the one people see a store's times in. */
const timezone = z.string({ error: 'expected a time zone name' }).refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'expected an IANA time zone such as Europe/Moscow or Asia/Novosibirsk' },
);
/**
 * The store's back-office server, watched through Debian's node and PostgreSQL exporters that its store
 * agent scrapes (deploy/edge/README.md, "Store server"). Each address is host:port of one exporter.
 */
const storeServerSchema = z
  .strictObject(
    {
      /** prometheus-node-exporter (port 9100 by default). */
      node: hostPort.optional(),
      /** prometheus-postgres-exporter (port 9187 by default). */
      postgres: hostPort.optional(),
    },
    { error: 'expected a map with node and/or postgres' },
  )
  .refine((s) => s.node !== undefined || s.postgres !== undefined, { error: 'set node, postgres or both' });

const storeSchema = z.strictObject(
  {
    id,
    name: z.string().optional(),
    /** The store's time zone; by default its region's, then its chain's. */
    timezone: timezone.optional(),
    /** Opening hours (docs: README "Store calendars"); the nearest level's hours win. */
    hours: hoursSchema.optional(),
    /** Local dates the store is closed all day; every level's dates count. */
    holidays: holidaysSchema.optional(),
    /** One-off closures in local time; every level's count. */
    closures: closuresSchema.optional(),
    server: storeServerSchema.optional(),
    /** Extra target labels for every till of the store (e.g. a city or a format). */
    labels: labelValues.optional(),
    tills: z
      .array(tillSchema, { error: 'expected a list of tills' })
      .min(1, { error: 'expected at least one till' }),
  },
  { error: 'expected a store map' },
);

const regionSchema = z.strictObject(
  {
    id,
    name: z.string().optional(),
    timezone: timezone.optional(),
    /** Opening hours (docs: README "Store calendars"); the nearest level's hours win. */
    hours: hoursSchema.optional(),
    /** Local dates the store is closed all day; every level's dates count. */
    holidays: holidaysSchema.optional(),
    /** One-off closures in local time; every level's count. */
    closures: closuresSchema.optional(),
    stores: z
      .array(storeSchema, { error: 'expected a list of stores' })
      .min(1, { error: 'expected at least one store' }),
  },
  { error: 'expected a region map' },
);

/** `pos: "4.2.0"`: the oldest version of a software component the chain accepts on a till. */
const minVersions = z.record(
  z.string().regex(/^[a-z][a-z0-9_]*$/, { error: 'expected a component name such as pos' }),
  z
    .string({ error: 'expected the version as a quoted string, e.g. "4.2.0"' })
    .regex(/^\d+(\.\d+){0,2}$/, { error: 'expected a version such as "4.2.0" (up to three numbers)' }),
  {
    error: (iss) =>
      iss.code === 'invalid_type' ? 'expected a map of component names to versions' : undefined,
  },
);

const chainSchema = z.strictObject(
  {
    id,
    name: z.string().optional(),
    timezone: timezone.optional(),
    /** Opening hours (docs: README "Store calendars"); the nearest level's hours win. */
    hours: hoursSchema.optional(),
    /** Local dates the store is closed all day; every level's dates count. */
    holidays: holidaysSchema.optional(),
    /** One-off closures in local time; every level's count. */
    closures: closuresSchema.optional(),
    /** Minimum versions per software component (rules/software.yml, TillSoftwareBelowMinimum). */
    min_versions: minVersions.optional(),
    regions: z
      .array(regionSchema, { error: 'expected a list of regions' })
      .min(1, { error: 'expected at least one region' }),
  },
  { error: 'expected a chain map' },
);

export const inventorySchema = z.strictObject(
  {
    chains: z
      .array(chainSchema, { error: 'expected a list of chains' })
      .min(1, { error: 'expected at least one chain' }),
  },
  { error: 'expected a map with a chains key' },
);

export type Inventory = z.infer<typeof inventorySchema>;
export type InventoryInput = z.input<typeof inventorySchema>;
export type Chain = Inventory['chains'][number];
export type StoreServer = z.infer<typeof storeServerSchema>;
export type Region = Chain['regions'][number];
export type Store = Region['stores'][number];
export type Till = Store['tills'][number];
export type Device = Till['devices'][number];

/** Bad inventory: the config kit's error (every problem, each as `file: key.path: reason`). */
export { ConfigError as InventoryError };

/** `chains[0].regions[1].tills[0].address`, the way a reader finds the key in the YAML. */
export const formatPath = formatKeyPath;

/** Cross-entry rules zod cannot express per object: ids and scrape targets must be unique. */
function uniquenessProblems(inv: Inventory): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = {
    chain: new Map<string, string>(),
    store: new Map<string, string>(),
    till: new Map<string, string>(),
    target: new Map<string, string>(),
  };
  const check = (kind: keyof typeof seen, key: string, path: string, what: string): void => {
    const first = seen[kind].get(key);
    if (first !== undefined)
      problems.push({ key: path, message: `duplicate ${what} "${key}" (first at ${first})` });
    else seen[kind].set(key, path);
  };
  inv.chains.forEach((chain, c) => {
    check('chain', chain.id, `chains[${c}].id`, 'chain id');
    const regions = new Map<string, string>();
    chain.regions.forEach((region, r) => {
      const path = `chains[${c}].regions[${r}].id`;
      const first = regions.get(region.id);
      if (first !== undefined)
        problems.push({ key: path, message: `duplicate region id "${region.id}" (first at ${first})` });
      else regions.set(region.id, path);
      region.stores.forEach((store, s) => {
        const sp = `chains[${c}].regions[${r}].stores[${s}]`;
        // Store ids are global so that a store label (and an agent config file name) means one place.
        check('store', store.id, `${sp}.id`, 'store id');
        store.tills.forEach((till, t) => {
          const tp = `${sp}.tills[${t}]`;
          check('till', till.id, `${tp}.id`, 'till id');
          check(
            'target',
            `${till.address}${till.metricsPath ?? '/metrics'}`,
            `${tp}.address`,
            'scrape target',
          );
          const devices = new Map<string, number>();
          till.devices.forEach((d, i) => {
            const prev = devices.get(d.name);
            if (prev !== undefined)
              problems.push({
                key: `${tp}.devices[${i}].name`,
                message: `duplicate device name "${d.name}" (first at devices[${prev}])`,
              });
            else devices.set(d.name, i);
          });
        });
      });
    });
  });
  return problems;
}

/**
 * A calendar needs a time zone, and holidays or closures need hours to interrupt: say so at the key that
 * set them, rather than serve a store as open around the clock or in the server's zone.
 */
function calendarProblems(inv: Inventory): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  inv.chains.forEach((chain, c) => {
    chain.regions.forEach((region, r) => {
      region.stores.forEach((store, s) => {
        const sp = `chains[${c}].regions[${r}].stores[${s}]`;
        const levels = [
          [store, sp],
          [region, `chains[${c}].regions[${r}]`],
          [chain, `chains[${c}]`],
        ] as const;
        const hoursAt = levels.find(([l]) => l.hours !== undefined);
        const tz = store.timezone ?? region.timezone ?? chain.timezone;
        if (hoursAt !== undefined && tz === undefined)
          problems.push({
            key: `${hoursAt[1]}.hours`,
            message: `store "${store.id}" has opening hours but no time zone: set timezone on the store, its region or its chain`,
          });
        if (hoursAt === undefined)
          for (const [l, path] of levels)
            for (const k of ['holidays', 'closures'] as const)
              if (l[k] !== undefined && l[k].length > 0)
                problems.push({
                  key: `${path}.${k}`,
                  message: `store "${store.id}" has ${k} but no opening hours: set hours on the store, its region or its chain`,
                });
      });
    });
  });
  // One problem per key: a chain-level mistake would otherwise repeat for each of its stores.
  const seen = new Set<string>();
  return problems.filter((p) => !seen.has(p.key ?? '') && seen.add(p.key ?? ''));
}

/** Validates an already-parsed document. `file` only names the source in errors. */
export function validateInventory(data: unknown, file = '<inventory>'): Inventory {
  // reportInput tells a missing key (input undefined) from a wrong value.
  const parsed = inventorySchema.safeParse(data, PARSE_OPTIONS);
  if (!parsed.success) throw new ConfigError(file, problemsOf(parsed.error.issues));
  const problems = [...uniquenessProblems(parsed.data), ...calendarProblems(parsed.data)];
  if (problems.length > 0) throw new ConfigError(file, problems);
  return parsed.data;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    // V8 names the offset ("... in JSON at position 1234"); turn it into line and column.
    const at = /position (\d+)/.exec((e as Error).message);
    const before = at ? text.slice(0, Number(at[1])) : '';
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    throw new ConfigError(file, [
      { message: `invalid JSON: ${(e as Error).message}`, ...(at ? { line, column } : {}) },
    ]);
  }
}

export function parseInventory(text: string, file = '<inventory>'): Inventory {
  // The config kit's YAML reader, as for every TillWatch config. The `yaml` package is slow and
  // memory-hungry on documents of tens of MB, so a fleet that large is better kept as JSON (a subset
  // of YAML), which is read natively: see "Scale" in this package's README.
  return validateInventory(file.endsWith('.json') ? parseJson(text, file) : parseYaml(text, file), file);
}

export function loadInventory(file: string): Inventory {
  return parseInventory(readConfigFile(file), file);
}

/** One till with where it is: what a file_sd group, an agent config or a simulator needs. */
export interface TillEntry {
  chain: Chain;
  region: Region;
  store: Store;
  till: Till;
  /** Target labels for the till: chain, region, store, till plus any extra store/till labels. */
  labels: Record<string, string>;
}

/** The hierarchy labels every series of the till carries (docs/metrics.md, "Labels"). */
export function tillLabels(chain: Chain, region: Region, store: Store, till: Till): Record<string, string> {
  // Extra labels first so they can never overwrite the hierarchy. The store's name reaches the wall as a
  // label of `up` only (deploy/prometheus.yml drops it from scraped series; rules/recording.yml records it).
  return {
    ...(store.name !== undefined ? { store_name: store.name } : {}),
    ...store.labels,
    ...till.labels,
    chain: chain.id,
    region: region.id,
    store: store.id,
    till: till.id,
  };
}

/** Every till, in file order. */
export function* iterateTills(inv: Inventory): Generator<TillEntry> {
  for (const chain of inv.chains)
    for (const region of chain.regions)
      for (const store of region.stores)
        for (const till of store.tills)
          yield { chain, region, store, till, labels: tillLabels(chain, region, store, till) };
}

/** Every store with its place, in file order: the unit a per-store agent config is generated for. */
export function* iterateStores(inv: Inventory): Generator<{ chain: Chain; region: Region; store: Store }> {
  for (const chain of inv.chains)
    for (const region of chain.regions) for (const store of region.stores) yield { chain, region, store };
}

/** A store as people know it: its names, its tills and the time zone its times are shown in. */
export interface StoreFacts {
  chain: string;
  region: string;
  store: string;
  name: string | null;
  chainName: string | null;
  regionName: string | null;
  timezone: string | null;
  tills: string[];
}

/** Every store by id (ids are unique across the inventory), its time zone inherited from region and chain. */
export function storeFacts(inv: Inventory): Map<string, StoreFacts> {
  const out = new Map<string, StoreFacts>();
  for (const { chain, region, store } of iterateStores(inv)) {
    out.set(store.id, {
      chain: chain.id,
      region: region.id,
      store: store.id,
      name: store.name ?? null,
      chainName: chain.name ?? null,
      regionName: region.name ?? null,
      timezone: store.timezone ?? region.timezone ?? chain.timezone ?? null,
      tills: store.tills.map((t) => t.id),
    });
  }
  return out;
}

/** Every store that has a calendar (hours on it, its region or its chain), in file order. */
export function* storeCalendars(inv: Inventory): Generator<CalendarStore> {
  for (const { chain, region, store } of iterateStores(inv)) {
    const calendar = resolveCalendar(chain, region, store);
    if (calendar !== null) yield { chain: chain.id, region: region.id, store: store.id, calendar };
  }
}
