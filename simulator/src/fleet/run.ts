// What `tillwatch-simulator fleet` runs: inventory + scenario in, tills and the control API up.
import { loadInventory, type Inventory } from '@tillwatch/inventory';
import type { Logger } from 'pino';
import { startFleetControl, type FleetControl } from './control-api.js';
import { Fleet, tillSpecs } from './fleet.js';
import { checkScenarioDevices, loadScenario, type Scenario } from './scenario.js';
import { parseListenAddress } from '@tillwatch/exporter';

export interface RunFleetOptions {
  inventory: string | Inventory;
  scenario?: string | Scenario;
  /** host:port of the control API (default 127.0.0.1:9837; port 0 = any free port). */
  controlListen?: string;
  speed?: number;
  seed?: number;
  intervalMs?: number;
  logger?: Logger;
}

export interface RunningFleet {
  fleet: Fleet;
  control: FleetControl;
  /** `fleet ready: N tills on 127.0.0.1:<first>-<last>, control http://127.0.0.1:9837` */
  readyLine: string;
  stop(): Promise<void>;
}

export async function runFleet(opts: RunFleetOptions): Promise<RunningFleet> {
  const inventory = typeof opts.inventory === 'string' ? loadInventory(opts.inventory) : opts.inventory;
  const specs = tillSpecs(inventory);
  const known = { tills: new Set(specs.map((s) => s.till)), stores: new Set(specs.map((s) => s.store)) };
  const scenario =
    opts.scenario === undefined
      ? undefined
      : typeof opts.scenario === 'string'
        ? loadScenario(opts.scenario, known)
        : opts.scenario;
  if (scenario) {
    const devices = new Map(
      specs.map((t) => [
        t.till,
        { utm: t.utm, marking: t.marking, scanner: t.peripherals.some((p) => p.kind === 'scanner') },
      ]),
    );
    checkScenarioDevices(scenario, devices);
  }
  const fleet = new Fleet(inventory, {
    intervalMs: opts.intervalMs ?? 5000,
    ...(opts.speed !== undefined && { speed: opts.speed }),
    ...(opts.seed !== undefined && { seed: opts.seed }),
    ...(scenario && { scenario }),
    ...(opts.logger && { logger: opts.logger }),
  });
  const { host, port } = parseListenAddress(opts.controlListen ?? '127.0.0.1:9837');
  await fleet.start();
  let control: FleetControl;
  try {
    control = await startFleetControl(fleet, port, host ?? '127.0.0.1');
  } catch (err) {
    await fleet.stop();
    throw new Error(`--control-listen ${opts.controlListen ?? '127.0.0.1:9837'}: ${(err as Error).message}`);
  }
  const addrs = fleet.list().map((t) => t.address);
  const ports = addrs.map((a) => Number(a.slice(a.lastIndexOf(':') + 1)));
  const tillHost = addrs[0]?.slice(0, addrs[0].lastIndexOf(':')) ?? '127.0.0.1';
  const readyLine = `fleet ready: ${fleet.tills.size} tills on ${tillHost}:${Math.min(...ports)}-${Math.max(...ports)}, control ${control.url}`;
  return {
    fleet,
    control,
    readyLine,
    async stop() {
      await control.close();
      await fleet.stop();
    },
  };
}
