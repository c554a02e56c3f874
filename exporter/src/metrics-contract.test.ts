// The metric contract (docs/metrics.md) against what really ships. Exporter part: run the exporter
// on the fixture world (every non-fiscal collector), scrape /metrics over HTTP, and require every
// exposed metric, with its type and label names, to be listed in the contract.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricTypes, parseExposition, readMetricContract } from '@tillwatch/testkit';
import { createExporter, startWebServer, type Exporter, type WebServer } from './index.js';
import { startFixture, type Fixture } from './testdata/fixture-env.js';

interface Exposed {
  type: string;
  labels: Set<string>;
}

/** Every metric of the exposition with its type and the label names its samples carry. */
function exposedMetrics(text: string): Map<string, Exposed> {
  const out = new Map<string, Exposed>();
  for (const [name, type] of metricTypes(text)) out.set(name, { type, labels: new Set() });
  for (const s of parseExposition(text, '/metrics'))
    for (const label of Object.keys(s.labels)) out.get(s.name)?.labels.add(label);
  return out;
}

describe('exporter metrics are in the contract', () => {
  let fx: Fixture;
  let ex: Exporter;
  let web: WebServer;
  let exposed: Map<string, Exposed>;

  beforeAll(async () => {
    fx = await startFixture();
    ex = createExporter(fx.config, fx.options);
    await ex.start();
    web = await startWebServer(ex, '127.0.0.1:0');
    exposed = exposedMetrics(await (await fetch(web.url('/metrics'))).text());
  });
  afterAll(async () => {
    await web?.close();
    await ex?.stop();
    await fx?.close();
  });

  it('exposes a real set of metrics', () => {
    expect(exposed.size).toBeGreaterThan(20);
  });

  it('lists every exposed metric in docs/metrics.md with the same type and labels', () => {
    const contract = readMetricContract();
    const problems: string[] = [];
    for (const [name, m] of exposed) {
      const entry = contract.get(name);
      if (!entry) {
        problems.push(`${name}: not in docs/metrics.md`);
        continue;
      }
      if (entry.type !== m.type) problems.push(`${name}: exposed as ${m.type}, documented as ${entry.type}`);
      for (const l of m.labels)
        if (!entry.labels.includes(l)) problems.push(`${name}: label ${l} is not documented`);
    }
    expect(problems).toEqual([]);
  });
});
