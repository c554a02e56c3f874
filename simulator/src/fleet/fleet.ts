// The fleet: one SimTill per inventory till in this process, a tick loop advancing the slow
// processes at --speed, the scenario's timed events, and store-level faults (uplink down).
import pino, { type Logger } from 'pino';
import { iterateTills, type Inventory } from '@tillwatch/inventory';
import { prng } from '../emulators/faults.js';
import { ApiError } from '../serve.js';
import { SimTill, isPeripheralKind, type TillSpec } from './sim-till.js';
import {
  RESTART_CLEARS,
  isStoreFault,
  isTillFault,
  isTillService,
  type StoreFault,
  type TillFault,
} from './faults.js';
import type { Scenario, ScenarioEvent } from './scenario.js';

export interface FleetOptions {
  /** Simulated seconds per real second for the slow processes (default 1). */
  speed?: number;
  seed?: number;
  /** Collector interval of every till's exporter (default 5 s). */
  intervalMs?: number;
  /** Tick loop period (default 1 s). */
  tickMs?: number;
  scenario?: Scenario;
  logger?: Logger;
  /** Clock of the tick loop and the scenario (ms); tests drive it by hand with tick(). */
  now?: () => number;
  /** Tills started at once (each start runs its exporter's first collection). */
  startConcurrency?: number;
}

/** An error the fleet's control API answers with its status and code. */
export class FleetError extends ApiError {}

export interface FleetTillView {
  till: string;
  store: string;
  region: string;
  chain: string;
  address: string;
  fiscal: 'shtrih' | 'atol';
  faults: string[];
}

/** Builds one till spec per inventory till. A till without a listed registrar gets one, alternating drivers. */
export function tillSpecs(inv: Inventory): TillSpec[] {
  const out: TillSpec[] = [];
  let i = 0;
  for (const { chain, region, store, till } of iterateTills(inv)) {
    const devices = till.devices;
    const fiscal = devices.find((d) => d.kind === 'fiscal');
    const driver =
      fiscal?.driver === 'shtrih' || fiscal?.driver === 'atol'
        ? fiscal.driver
        : i % 2 === 0
          ? 'shtrih'
          : 'atol';
    const listed = devices.length > 0;
    const peripherals = devices.flatMap((d) => {
      if (!isPeripheralKind(d.kind) || !d.usb) return [];
      const [vendor, product] = d.usb.split(':') as [string, string];
      return [{ device: d.name, kind: d.kind, vendor, product }];
    });
    out.push({
      chain: chain.id,
      region: region.id,
      store: store.id,
      till: till.id,
      address: till.address,
      fiscalDriver: driver,
      utm: listed ? devices.some((d) => d.kind === 'utm') : true,
      marking: listed ? devices.some((d) => d.kind === 'marking') : true,
      peripherals: listed
        ? peripherals
        : [{ device: 'scanner', kind: 'scanner', vendor: '0c2e', product: '0b61' }],
    });
    i += 1;
  }
  return out;
}

async function inBatches<T>(items: T[], size: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

export class Fleet {
  readonly tills = new Map<string, SimTill>();
  readonly stores = new Map<string, SimTill[]>();
  private readonly storeFaults = new Map<string, Set<StoreFault>>();
  private readonly speed: number;
  private readonly now: () => number;
  private readonly receiptsPerHour: number;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private lastTick = 0;
  /** Scenario events not yet applied / cleared, in time order. */
  private pending: Array<{ at: number; apply: () => Promise<void>; label: string }> = [];
  private ticking: Promise<void> | null = null;
  readonly fired: string[] = [];

  constructor(
    inventory: Inventory,
    private readonly opts: FleetOptions = {},
  ) {
    this.speed = opts.speed ?? opts.scenario?.speed ?? 1;
    this.now = opts.now ?? Date.now;
    this.receiptsPerHour = opts.scenario?.receiptsPerHour ?? 30;
    const random = prng(opts.seed ?? opts.scenario?.seed ?? 1);
    const logger = opts.logger ?? pino({ level: 'silent' });
    for (const spec of tillSpecs(inventory)) {
      const till = new SimTill(spec, { intervalMs: opts.intervalMs ?? 5000, logger, random });
      this.tills.set(spec.till, till);
      const list = this.stores.get(spec.store) ?? [];
      list.push(till);
      this.stores.set(spec.store, list);
    }
  }

  /** Starts every till (emulators, exporter, web server), applies the scenario's conditions, starts the loop. */
  async start(): Promise<void> {
    const all = [...this.tills.values()];
    try {
      await inBatches(all, 64, (t) => t.reserve());
      await inBatches(all, this.opts.startConcurrency ?? 32, (t) => t.start());
    } catch (err) {
      await this.stop();
      throw err;
    }
    for (const c of this.opts.scenario?.conditions ?? []) this.tills.get(c.till)?.applyCondition(c);
    this.startedAt = this.now();
    this.lastTick = this.startedAt;
    this.schedule(this.opts.scenario?.events ?? []);
    if (this.opts.now === undefined) {
      this.timer = setInterval(() => void this.tick(), this.opts.tickMs ?? 1000);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    await inBatches([...this.tills.values()], 64, (t) => t.stop());
  }

  /** One step of the loop: advances the slow processes and fires due scenario events. */
  async tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = (async () => {
      const now = this.now();
      const real = Math.max(0, (now - this.lastTick) / 1000);
      this.lastTick = now;
      for (const t of this.tills.values()) t.tick(real, real * this.speed, this.receiptsPerHour);
      while (this.pending.length > 0 && (this.pending[0] as { at: number }).at <= now) {
        const e = this.pending.shift() as (typeof this.pending)[number];
        try {
          await e.apply();
          this.fired.push(e.label);
        } catch (err) {
          this.opts.logger?.warn({ event: e.label, err: (err as Error).message }, 'scenario event failed');
        }
      }
    })().finally(() => (this.ticking = null));
    return this.ticking;
  }

  /** Simulated seconds per real second. */
  get simulationSpeed(): number {
    return this.speed;
  }

  list(): FleetTillView[] {
    return [...this.tills.values()].map((t) => ({
      till: t.spec.till,
      store: t.spec.store,
      region: t.spec.region,
      chain: t.spec.chain,
      address: t.spec.address,
      fiscal: t.spec.fiscalDriver,
      faults: t.activeFaults(),
    }));
  }

  private till(id: string): SimTill {
    const t = this.tills.get(id);
    if (!t) throw new FleetError(404, 'unknown_till', `unknown till "${id}"`);
    return t;
  }

  private tillFault(till: SimTill, fault: string): TillFault {
    if (!isTillFault(fault)) throw new FleetError(400, 'unknown_fault', `unknown till fault "${fault}"`);
    const why = till.cannotTake(fault);
    if (why) throw new FleetError(400, 'not_applicable', `${fault}: ${why}`);
    return fault;
  }

  addTillFault(tillId: string, fault: string): void {
    const t = this.till(tillId);
    t.addFault(this.tillFault(t, fault));
  }

  clearTillFault(tillId: string, fault: string): void {
    const t = this.till(tillId);
    if (!isTillFault(fault)) throw new FleetError(400, 'unknown_fault', `unknown till fault "${fault}"`);
    t.clearFault(fault);
  }

  /**
   * Restarts one of a till's services as its service manager would: the faults a restart clears
   * (RESTART_CLEARS) are gone, any other stays. Returns the faults it cleared.
   */
  restartService(tillId: string, service: string): TillFault[] {
    const t = this.till(tillId);
    if (!isTillService(service))
      throw new FleetError(
        400,
        'unknown_service',
        `unknown service "${service}" (known: ${Object.keys(RESTART_CLEARS).join(', ')})`,
      );
    const why = t.cannotTake(RESTART_CLEARS[service][0]);
    if (why) throw new FleetError(400, 'not_applicable', `restart ${service}: ${why}`);
    const cleared = RESTART_CLEARS[service].filter((f) => t.faults.has(f));
    for (const f of cleared) t.clearFault(f);
    return cleared;
  }

  private store(id: string): SimTill[] {
    const s = this.stores.get(id);
    if (!s) throw new FleetError(404, 'unknown_store', `unknown store "${id}"`);
    return s;
  }

  async addStoreFault(storeId: string, fault: string): Promise<void> {
    const tills = this.store(storeId);
    if (!isStoreFault(fault)) throw new FleetError(400, 'unknown_fault', `unknown store fault "${fault}"`);
    const set = this.storeFaults.get(storeId) ?? new Set();
    set.add(fault);
    this.storeFaults.set(storeId, set);
    await Promise.all(tills.map((t) => t.setUplink(false)));
  }

  async clearStoreFault(storeId: string, fault: string): Promise<void> {
    const tills = this.store(storeId);
    if (!isStoreFault(fault)) throw new FleetError(400, 'unknown_fault', `unknown store fault "${fault}"`);
    this.storeFaults.get(storeId)?.delete(fault);
    await Promise.all(tills.map((t) => t.setUplink(true)));
  }

  storeFaultList(storeId: string): string[] {
    this.store(storeId);
    return [...(this.storeFaults.get(storeId) ?? [])];
  }

  private schedule(events: ScenarioEvent[]): void {
    const out: typeof this.pending = [];
    for (const e of events) {
      const at = this.startedAt + e.at * 1000;
      if ('till' in e) {
        const label = `${e.till} ${e.fault}`;
        out.push({ at, label: `+${label}`, apply: async () => this.addTillFault(e.till, e.fault) });
        if (e.duration !== undefined)
          out.push({
            at: at + e.duration * 1000,
            label: `-${label}`,
            apply: async () => this.clearTillFault(e.till, e.fault),
          });
      } else {
        const label = `${e.store} ${e.fault}`;
        out.push({ at, label: `+${label}`, apply: () => this.addStoreFault(e.store, e.fault) });
        if (e.duration !== undefined)
          out.push({
            at: at + e.duration * 1000,
            label: `-${label}`,
            apply: () => this.clearStoreFault(e.store, e.fault),
          });
      }
    }
    // Stable sort: at equal times, a clear scheduled earlier in the file keeps its place.
    this.pending = out.sort((a, b) => a.at - b.at);
  }
}
