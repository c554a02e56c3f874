// The metric contract (docs/metrics.md) against what really ships. Exporter part: run the exporter
// on the fixture world (every non-fiscal collector), scrape /metrics over HTTP, and require every
// exposed metric, with its type and label names, to be listed in the contract.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExporter, startWebServer, type Exporter, type WebServer } from '@tillwatch/exporter';
import { startFixture, type Fixture } from '../exporter/src/testdata/fixture-env.js';
import { readMetricContract } from './lib/metrics-doc.js';

interface Exposed {
  type: string;
  labels: Set<string>;
}

function parseExposition(text: string): Map<string, Exposed> {
  const out = new Map<string, Exposed>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type?.[1] && type[2]) out.set(type[1], { type: type[2], labels: new Set() });
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (sample?.[1] && !line.startsWith('#')) {
      const m = out.get(sample[1]);
      for (const l of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g))
        m?.labels.add(l[1] as string);
    }
  }
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
    exposed = parseExposition(await (await fetch(web.url('/metrics'))).text());
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
