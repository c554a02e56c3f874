// The bridge's part of the metric contract (docs/metrics.md, "Alert bridge": the series the meta-monitoring
// rules read) against what a running bridge exposes, with type and label names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetricContract } from '@tillwatch/testkit';
import { startBridge } from '@tillwatch/testkit/bridge';

describe('bridge metrics in the contract', () => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  beforeAll(async () => {
    ctx = await startBridge('sqlite');
  });
  afterAll(async () => ctx?.close());

  const documented = [...readMetricContract().values()].filter((e) => e.section === 'Alert bridge');

  it('lists the outbox series the rules read', () => {
    expect(documented.map((e) => e.name)).toEqual(
      expect.arrayContaining([
        'tillwatch_bridge_outbox_dead_total',
        'tillwatch_bridge_outbox_oldest_pending_seconds',
      ]),
    );
  });

  it.each(documented.map((e) => [e.name, e] as const))('%s is exposed as documented', async (name, e) => {
    const text = await (await fetch(`${ctx.bridge.url}/metrics`)).text();
    expect(text).toContain(`# TYPE ${name} ${e.type}\n`);
    const metric = ctx.bridge.metrics.registry.getSingleMetric(name) as unknown as { labelNames: string[] };
    expect([...metric.labelNames].sort()).toEqual([...e.labels].sort());
  });
});
