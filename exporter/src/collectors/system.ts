// Host figures: CPU, memory, filesystems, boot time, temperatures (systeminformation by default).
import { createRequire } from 'node:module';
import { cpus, uptime } from 'node:os';
import type * as Si from 'systeminformation';
import { z } from 'zod';
import { registerCollector, type MetricFamily } from '../collector.js';
import type { SystemInfoSource } from '../host.js';

const schema = z
  .strictObject({
    /** Only these mount points (default: every real filesystem the OS lists). */
    mountpoints: z.array(z.string().min(1)).optional(),
    /** Filesystem types never reported (pseudo and overlay filesystems). */
    exclude_fs_types: z
      .array(z.string())
      .default(['tmpfs', 'devtmpfs', 'overlay', 'squashfs', 'ramfs', 'iso9660', 'efivarfs']),
    temperatures: z.boolean().default(true),
  })
  .default({
    exclude_fs_types: ['tmpfs', 'devtmpfs', 'overlay', 'squashfs', 'ramfs', 'iso9660', 'efivarfs'],
    temperatures: true,
  });

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    const sum = t.user + t.nice + t.sys + t.idle + t.irq;
    total += sum;
    busy += sum - t.idle;
  }
  return { busy, total };
}

/**
 * systeminformation, loaded on first use. Only its memory, filesystem and cpu modules are required:
 * its index loads ~25 modules (docker, wifi, bluetooth, ...) whose RSS we do not need (docs/benchmarks.md).
 */
export function systeminformationSource(): SystemInfoSource {
  let loaded:
    { mem: typeof Si.mem; fsSize: typeof Si.fsSize; cpuTemperature: typeof Si.cpuTemperature } | undefined;
  const si = async () => {
    if (!loaded) {
      const req = createRequire(import.meta.url);
      loaded = {
        mem: (req('systeminformation/lib/memory.js') as typeof Si).mem,
        fsSize: (req('systeminformation/lib/filesystem.js') as typeof Si).fsSize,
        cpuTemperature: (req('systeminformation/lib/cpu.js') as typeof Si).cpuTemperature,
      };
    }
    return loaded;
  };
  let last = cpuTimes();
  return {
    // From os.cpus() deltas: cheap on every OS, and exact over the poll interval, whereas
    // systeminformation's currentLoad() reports a since-boot figure on its first call.
    async cpuUsage() {
      const cur = cpuTimes();
      const total = cur.total - last.total;
      const ratio = total > 0 ? (cur.busy - last.busy) / total : 0;
      last = cur;
      return Math.min(1, Math.max(0, ratio));
    },
    async memory() {
      const m = await (await si()).mem();
      return { total: m.total, available: m.available };
    },
    async filesystems() {
      return (await (await si()).fsSize()).map((f) => ({
        mountpoint: f.mount,
        size: f.size,
        available: f.available,
        type: f.type,
      }));
    },
    // os.uptime(), not si.time(): the latter resolves the time zone through ICU, which costs RSS.
    async uptime() {
      return uptime();
    },
    async temperatures() {
      const t = await (await si()).cpuTemperature();
      const out: Array<{ sensor: string; celsius: number }> = [];
      if (typeof t.main === 'number' && Number.isFinite(t.main)) out.push({ sensor: 'cpu', celsius: t.main });
      t.cores.forEach((c, i) => {
        if (Number.isFinite(c)) out.push({ sensor: `core${i}`, celsius: c });
      });
      if (typeof t.chipset === 'number' && Number.isFinite(t.chipset))
        out.push({ sensor: 'chipset', celsius: t.chipset });
      return out;
    },
  };
}

registerCollector({
  name: 'system',
  configKey: 'system',
  schema,
  defaultEnabled: true,
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 10,
  create(config, env) {
    const source = env.systemInfo ?? systeminformationSource();
    const now = env.now ?? Date.now;
    return {
      devices: [],
      async collect() {
        const [cpu, mem, fss, uptime, temps] = await Promise.all([
          source.cpuUsage(),
          source.memory(),
          source.filesystems(),
          source.uptime(),
          config.temperatures ? source.temperatures().catch(() => []) : Promise.resolve([]),
        ]);
        const seen = new Set<string>();
        const fs = fss.filter((f) => {
          if (
            config.mountpoints
              ? !config.mountpoints.includes(f.mountpoint)
              : config.exclude_fs_types.includes(f.type)
          )
            return false;
          if (seen.has(f.mountpoint)) return false;
          seen.add(f.mountpoint);
          return true;
        });
        const families: MetricFamily[] = [
          {
            name: 'till_cpu_usage_ratio',
            help: 'CPU busy share over the last poll interval, 0..1.',
            type: 'gauge',
            samples: [{ labels: {}, value: cpu }],
          },
          {
            name: 'till_memory_total_bytes',
            help: 'Physical memory.',
            type: 'gauge',
            samples: [{ labels: {}, value: mem.total }],
          },
          {
            name: 'till_memory_available_bytes',
            help: 'Memory available to programs without swapping.',
            type: 'gauge',
            samples: [{ labels: {}, value: mem.available }],
          },
          {
            name: 'till_filesystem_size_bytes',
            help: 'Filesystem size.',
            type: 'gauge',
            samples: fs.map((f) => ({ labels: { mountpoint: f.mountpoint }, value: f.size })),
          },
          {
            name: 'till_filesystem_avail_bytes',
            help: 'Filesystem space available to unprivileged users.',
            type: 'gauge',
            samples: fs.map((f) => ({ labels: { mountpoint: f.mountpoint }, value: f.available })),
          },
          {
            name: 'till_boot_time_seconds',
            help: 'Host boot time, Unix seconds.',
            type: 'gauge',
            samples: [{ labels: {}, value: Math.round(now() / 1000 - uptime) }],
          },
        ];
        if (temps.length > 0) {
          families.push({
            name: 'till_temperature_celsius',
            help: 'Temperatures where the OS exposes them.',
            type: 'gauge',
            samples: temps.map((t) => ({ labels: { sensor: t.sensor }, value: t.celsius })),
          });
        }
        return { families: families.filter((f) => f.samples.length > 0) };
      },
    };
  },
});
