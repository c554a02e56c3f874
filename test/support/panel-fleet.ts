import { startMetricsServer } from '@tillwatch/testkit';

/**
 * A static fleet target for the panel's end-to-end test: one loopback HTTP server that serves
 * `till_device_up` in the exposition format for a small, fixed fleet, with the inventory labels on every
 * series (scraped with honor_labels, as a store agent's federation would be). The fleet simulator will
 * replace it; until then this keeps the panel test on a real Prometheus scrape.
 */
export interface FleetDevice {
  chain: string;
  region: string;
  store: string;
  till: string;
  device: string;
  kind: string;
  /** 1 up, 0 down, NaN unknown (the exporter could not tell). */
  up: number;
}

export function smallFleet(): FleetDevice[] {
  const out: FleetDevice[] = [];
  const stores: Array<[string, string, number]> = [
    ['north', 'store-1', 3],
    ['north', 'store-2', 2],
    ['south', 'store-3', 2],
  ];
  const devices: Array<[string, string]> = [
    ['fiscal', 'fiscal'],
    ['scanner', 'scanner'],
    ['printer', 'printer'],
  ];
  for (const [region, store, tills] of stores) {
    for (let t = 1; t <= tills; t++) {
      for (const [device, kind] of devices) {
        out.push({ chain: 'acme', region, store, till: `${store}-till-${t}`, device, kind, up: 1 });
      }
    }
  }
  return out;
}

export function exposition(fleet: FleetDevice[]): string {
  const lines = [
    '# HELP till_device_up 1 = the configured device is present and answering; 0 = configured but absent or not answering.',
    '# TYPE till_device_up gauge',
  ];
  for (const d of fleet) {
    const v = Number.isNaN(d.up) ? 'NaN' : String(d.up);
    lines.push(
      `till_device_up{chain="${d.chain}",region="${d.region}",store="${d.store}",till="${d.till}",device="${d.device}",kind="${d.kind}"} ${v}`,
    );
  }
  return lines.join('\n') + '\n';
}

export interface FleetTarget {
  url: string;
  /** host:port for a scrape config. */
  address: string;
  fleet: FleetDevice[];
  close(): Promise<void>;
}

/** Serves the fleet's current state on each scrape: a test changes `fleet` and the next scrape shows it. */
export async function startStaticFleetTarget(fleet: FleetDevice[]): Promise<FleetTarget> {
  const server = await startMetricsServer(() => exposition(fleet));
  return { url: server.url, address: server.address, fleet, close: server.close };
}
