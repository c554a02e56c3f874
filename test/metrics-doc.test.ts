import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetricContract } from '@tillwatch/testkit';

describe('metric contract document', () => {
  it('lists the framework series every other component relies on, with their labels', () => {
    const doc = readMetricContract();
    expect(doc.get('till_device_up')).toMatchObject({ type: 'gauge', labels: ['device', 'kind'] });
    expect(doc.get('till_collector_success')?.labels).toEqual(['collector']);
    expect(doc.get('till_log_matches_total')?.type).toBe('counter');
  });

  it('follows Prometheus naming: counters end in _total and nothing else does', () => {
    for (const e of readMetricContract().values()) {
      expect(e.name.endsWith('_total'), e.name).toBe(e.type === 'counter');
      // TillWatch's own series are till_*; the store server's are named by Debian's exporters, the
      // fleet declarations are recorded (level:name form), the alert bridge's are tillwatch_bridge_*, and the
      // store calendar's are about stores, not tills.
      const pattern =
        e.section === "Store server (Debian's exporters)"
          ? /^(pg|node)_[a-zA-Z0-9_]+$/
          : e.section === 'Fleet declarations'
            ? /^tillwatch:[a-z0-9_]+$/
            : e.section === 'Alert bridge' || e.section === 'Alert bridge: service'
              ? /^tillwatch_bridge_[a-z0-9_]+$/
              : e.section === 'Store calendars'
                ? /^tillwatch_store_[a-z0-9_]+$/
                : /^till_[a-z0-9_]+$/;
      expect(e.name, e.name).toMatch(pattern);
    }
  });

  it('rejects a document that lists a metric twice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'metrics-doc-'));
    const file = join(dir, 'metrics.md');
    writeFileSync(file, '| `till_x` | gauge | | a |\n| `till_x` | gauge | | b |\n');
    expect(() => readMetricContract(file)).toThrow(/till_x is listed twice/);
  });
});
