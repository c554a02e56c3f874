// Is the POS program (UTM, the marking module, ...) running, and has it restarted? On Linux /proc is
// read directly (cheaper than spawning ps every poll); on Windows one PowerShell CIM query.
import { readdir, readFile } from '../fs-async.js';
import { join } from 'node:path';
import { z } from 'zod';
import { regexString } from './schemas.js';
import { registerCollector, type Sample } from '../collector.js';
import type { PowerShellRunner } from '../host.js';
import { defaultPowerShell } from '../host.js';

const processSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected letters, digits, "_", "." or "-"' }),
    /** Executable name, e.g. "java" or "pos.exe" (case-insensitive, ".exe" optional). */
    executable: z.string().min(1).optional(),
    /** Regular expression matched against the full command line. */
    cmdline: z.string().min(1).pipe(regexString).optional(),
  })
  .refine((p) => p.executable !== undefined || p.cmdline !== undefined, {
    error: 'set executable or cmdline (or both)',
  });

const schema = z.array(processSchema).default([]);

export interface ProcessInfo {
  pid: number;
  executable: string;
  cmdline: string;
  residentBytes: number;
  startTimeSeconds: number;
}

// Linux constants: USER_HZ is 100 on every mainstream architecture, and x86 tills use 4 KiB pages.
const CLK_TCK = 100;
const PAGE_SIZE = 4096;

export async function listLinuxProcesses(procRoot: string): Promise<ProcessInfo[]> {
  const stat = await readFile(join(procRoot, 'stat'), 'utf8');
  const btime = Number(/^btime (\d+)$/m.exec(stat)?.[1] ?? 0);
  const out: ProcessInfo[] = [];
  for (const entry of await readdir(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [st, cmd] = await Promise.all([
        readFile(join(procRoot, entry, 'stat'), 'utf8'),
        readFile(join(procRoot, entry, 'cmdline'), 'utf8').catch(() => ''),
      ]);
      // comm is in parentheses and may itself contain spaces or ")": split at the last ")".
      const close = st.lastIndexOf(')');
      const comm = st.slice(st.indexOf('(') + 1, close);
      const fields = st.slice(close + 2).split(' ');
      // fields[0] is field 3 (state); starttime is field 22, rss field 24.
      const starttime = Number(fields[19]);
      const rss = Number(fields[21]);
      const args = cmd.split('\0').filter(Boolean);
      out.push({
        pid: Number(entry),
        executable: args[0] ? (args[0].split('/').pop() ?? comm) : comm,
        cmdline: args.length ? args.join(' ') : comm,
        residentBytes: rss * PAGE_SIZE,
        startTimeSeconds: btime + starttime / CLK_TCK,
      });
    } catch {
      // The process exited between readdir and read.
    }
  }
  return out;
}

export const WINDOWS_PROCESS_SCRIPT =
  'Get-CimInstance Win32_Process | Select-Object ProcessId,Name,CommandLine,WorkingSetSize,' +
  '@{n="Created";e={[DateTimeOffset]::new($_.CreationDate).ToUnixTimeMilliseconds()}} | ConvertTo-Json -Compress';

export async function listWindowsProcesses(
  run: PowerShellRunner,
  signal: AbortSignal,
): Promise<ProcessInfo[]> {
  const text = (await run(WINDOWS_PROCESS_SCRIPT, signal)).trim();
  if (!text) return [];
  const parsed = JSON.parse(text) as unknown;
  const rows = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
  return rows.map((r) => ({
    pid: Number(r.ProcessId),
    executable: String(r.Name ?? ''),
    cmdline: String(r.CommandLine ?? r.Name ?? ''),
    residentBytes: Number(r.WorkingSetSize ?? 0),
    startTimeSeconds: Number(r.Created ?? 0) / 1000,
  }));
}

function normaliseExe(name: string): string {
  return name.toLowerCase().replace(/\.exe$/, '');
}

registerCollector({
  name: 'process',
  configKey: 'processes',
  schema,
  defaultEnabled: (ps) => ps.length > 0,
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 10,
  create(processes, env) {
    const procRoot = env.procRoot ?? '/proc';
    const matchers = processes.map((p) => ({
      name: p.name,
      exe: p.executable ? normaliseExe(p.executable) : undefined,
      re: p.cmdline ? new RegExp(p.cmdline) : undefined,
    }));
    // Identity (pid + start time) of the oldest matching process at the last poll, and restarts seen.
    const lastIdentity = new Map<string, string>();
    const restarts = new Map<string, number>(processes.map((p) => [p.name, 0]));
    return {
      devices: [],
      async collect(ctx) {
        const all =
          env.platform === 'win32'
            ? await listWindowsProcesses(env.powershell ?? defaultPowerShell, ctx.signal)
            : await listLinuxProcesses(procRoot);
        const up: Sample[] = [];
        const rss: Sample[] = [];
        const start: Sample[] = [];
        const restartSamples: Sample[] = [];
        for (const m of matchers) {
          const matching = all.filter(
            (p) => (!m.exe || normaliseExe(p.executable) === m.exe) && (!m.re || m.re.test(p.cmdline)),
          );
          const labels = { process: m.name };
          const oldest = matching.reduce<ProcessInfo | undefined>(
            (a, p) => (!a || p.startTimeSeconds < a.startTimeSeconds ? p : a),
            undefined,
          );
          const identity = oldest ? `${oldest.pid}@${oldest.startTimeSeconds}` : null;
          const previous = lastIdentity.get(m.name);
          // A restart is a different oldest process than the last one seen; the first sighting is not
          // one, and a process that stopped and came back counts once, when it comes back.
          if (identity) {
            if (previous !== undefined && previous !== identity)
              restarts.set(m.name, (restarts.get(m.name) ?? 0) + 1);
            lastIdentity.set(m.name, identity);
          }
          up.push({ labels, value: oldest ? 1 : 0 });
          restartSamples.push({ labels, value: restarts.get(m.name) ?? 0 });
          if (oldest) {
            rss.push({ labels, value: matching.reduce((s, p) => s + p.residentBytes, 0) });
            start.push({ labels, value: oldest.startTimeSeconds });
          }
        }
        return {
          families: [
            {
              name: 'till_process_up',
              help: 'Whether a matching process runs.',
              type: 'gauge' as const,
              samples: up,
            },
            {
              name: 'till_process_restarts_total',
              help: 'Times a new PID or start time was seen after the first.',
              type: 'counter' as const,
              samples: restartSamples,
            },
            {
              name: 'till_process_resident_memory_bytes',
              help: 'Resident memory of the matching processes.',
              type: 'gauge' as const,
              samples: rss,
            },
            {
              name: 'till_process_start_time_seconds',
              help: 'Start time of the oldest matching process, Unix seconds.',
              type: 'gauge' as const,
              samples: start,
            },
          ].filter((f) => f.samples.length > 0),
        };
      },
    };
  },
});
