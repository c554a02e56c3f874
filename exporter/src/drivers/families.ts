// Builds MetricFamily values for the device collectors (fiscal, utm, marking).
import type { Labels, MetricFamily } from '../collector.js';

export class FamilySet {
  private readonly byName = new Map<string, MetricFamily>();

  add(
    name: string,
    help: string,
    labels: Labels,
    value: number | boolean | undefined,
    type: 'gauge' | 'counter' = 'gauge',
  ): void {
    if (value === undefined) return;
    let f = this.byName.get(name);
    if (!f) {
      f = { name, help, type, samples: [] };
      this.byName.set(name, f);
    }
    f.samples.push({ labels, value: typeof value === 'boolean' ? (value ? 1 : 0) : value });
  }

  families(): MetricFamily[] {
    return [...this.byName.values()];
  }
}
