import { DataFrame, FieldType, toDataFrame } from '@grafana/data';

/**
 * Builds Prometheus-shaped frames for tests, the harness and the bench: the shapes Grafana's Prometheus
 * data source returns for instant queries.
 */

/** "Time series" format: one frame per series, the labels on the value field. */
export function seriesFrame(labels: Record<string, string>, value: number | null, refId = 'A'): DataFrame {
  return toDataFrame({
    refId,
    fields: [
      { name: 'Time', type: FieldType.time, values: [1_700_000_000_000] },
      { name: 'Value', type: FieldType.number, values: [value], labels },
    ],
  });
}

/** "Table" format: one frame, a string column per label and one value column. */
export function tableFrame(
  rows: Array<{ labels: Record<string, string>; value: number | null }>,
  refId = 'A'
): DataFrame {
  const names = new Set<string>();
  for (const r of rows) {
    Object.keys(r.labels).forEach((k) => names.add(k));
  }
  const fields = [...names].map((name) => ({
    name,
    type: FieldType.string,
    values: rows.map((r) => r.labels[name] ?? ''),
  }));
  return toDataFrame({
    refId,
    fields: [...fields, { name: `Value #${refId}`, type: FieldType.number, values: rows.map((r) => r.value) }],
  });
}

/** One ALERTS{alertstate="firing"} series. */
export function alertFrame(labels: Record<string, string>, refId = 'ALERTS'): DataFrame {
  return seriesFrame({ __name__: 'ALERTS', alertstate: 'firing', ...labels }, 1, refId);
}

export interface FleetSpec {
  tills: number;
  /** 0: one row per till without a device label, as the NOC wall's per-till query returns. */
  devicesPerTill?: number;
  tillsPerStore?: number;
  storesPerRegion?: number;
  regionsPerChain?: number;
  /** Share of devices that are down (value 0), spread deterministically. */
  downRatio?: number;
  /** Share of devices with no value (NaN), shown as unknown. */
  unknownRatio?: number;
  /** Tills whose every row is down (value 0), on top of the ratios: the bench's state changes. */
  downTills?: (till: number) => boolean;
}

export const DEVICE_NAMES = ['fiscal', 'scanner', 'printer', 'scales', 'pinpad', 'drawer', 'utm', 'marking'];

/**
 * A whole fleet as one table frame, built from typed columns so that 500,000 rows take milliseconds:
 * what a large instant query in table format looks like. Deterministic (no randomness) for repeatable benches.
 */
export function fleetTable(spec: FleetSpec): DataFrame {
  const perTill = spec.devicesPerTill === 0;
  const devices = perTill ? 1 : (spec.devicesPerTill ?? 5);
  const tillsPerStore = spec.tillsPerStore ?? 8;
  const storesPerRegion = spec.storesPerRegion ?? 50;
  const regionsPerChain = spec.regionsPerChain ?? 10;
  const down = spec.downRatio ?? 0.002;
  const unknown = spec.unknownRatio ?? 0.001;
  const n = spec.tills * devices;
  const chain: string[] = new Array(n);
  const region: string[] = new Array(n);
  const store: string[] = new Array(n);
  const till: string[] = new Array(n);
  const device: string[] = new Array(n);
  const value: number[] = new Array(n);
  const downEvery = down > 0 ? Math.round(1 / down) : 0;
  const unknownEvery = unknown > 0 ? Math.round(1 / unknown) : 0;
  let row = 0;
  for (let t = 0; t < spec.tills; t++) {
    const s = Math.floor(t / tillsPerStore);
    const r = Math.floor(s / storesPerRegion);
    const c = Math.floor(r / regionsPerChain);
    const chainName = `chain-${c + 1}`;
    const regionName = `region-${r + 1}`;
    const storeName = `store-${s + 1}`;
    const tillName = `${storeName}-till-${(t % tillsPerStore) + 1}`;
    for (let d = 0; d < devices; d++) {
      chain[row] = chainName;
      region[row] = regionName;
      store[row] = storeName;
      till[row] = tillName;
      device[row] = DEVICE_NAMES[d % DEVICE_NAMES.length]!;
      // A multiplicative hash spreads the failures over the fleet instead of bunching them in one store.
      const h = (row * 2654435761) >>> 0;
      value[row] =
        spec.downTills?.(t) === true
          ? 0
          : unknownEvery && h % unknownEvery === 0
            ? NaN
            : downEvery && h % downEvery === 1
              ? 0
              : 1;
      row++;
    }
  }
  return {
    refId: 'A',
    length: n,
    fields: [
      { name: 'chain', type: FieldType.string, values: chain, config: {} },
      { name: 'region', type: FieldType.string, values: region, config: {} },
      { name: 'store', type: FieldType.string, values: store, config: {} },
      { name: 'till', type: FieldType.string, values: till, config: {} },
      ...(perTill ? [] : [{ name: 'device', type: FieldType.string, values: device, config: {} }]),
      { name: 'Value #A', type: FieldType.number, values: value, config: {} },
    ],
  };
}
