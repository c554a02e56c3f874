// Test helpers: run a collector once and read values out of its result.
import pino from 'pino';
import type { CollectResult, Collector, Labels } from '@tillwatch/exporter';

export const silentLogger = pino({ level: 'silent' });

export async function collectOnce(
  c: Collector,
  now: () => number,
  timeoutMs = 20_000,
): Promise<CollectResult> {
  return c.collect({ signal: AbortSignal.timeout(timeoutMs), logger: silentLogger, now });
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when absent. */
export function valueOf(r: CollectResult, name: string, labels: Labels = {}): number | undefined {
  const f = r.families.find((x) => x.name === name);
  const matches = (f?.samples ?? []).filter((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (matches.length > 1)
    throw new Error(`${name} ${JSON.stringify(labels)} matches ${matches.length} samples`);
  return matches[0]?.value;
}

export function labelsOf(r: CollectResult, name: string): Labels[] {
  return (r.families.find((x) => x.name === name)?.samples ?? []).map((s) => s.labels);
}

export function upOf(r: CollectResult, device: string): boolean | undefined {
  return r.devices?.find((d) => d.device === device)?.up;
}

/** Every sample as "name{k=v,...} value" lines, sorted: whole-result comparisons in tests. */
export function dump(r: CollectResult): string[] {
  const out: string[] = [];
  for (const f of r.families) {
    for (const s of f.samples) {
      const l = Object.keys(s.labels)
        .sort()
        .map((k) => `${k}=${s.labels[k]}`)
        .join(',');
      out.push(`${f.name}{${l}} ${s.value}`);
    }
  }
  for (const d of r.devices ?? [])
    out.push(`till_device_up{device=${d.device},kind=${d.kind}} ${d.up ? 1 : 0}`);
  return out.sort();
}
