// Expected peripherals (scanner, printer, scales, pinpad, drawer) against what the OS enumerates.
// Nothing here opens a port: the POS program holds them, and fighting it for a COM port stops sales.
// Linux reads sysfs; Windows asks WMI (Win32_PnPEntity) through PowerShell; serial devices come from
// SerialPort.list(), which only enumerates.
//
// "Answering" is judged without talking to the device either: on Linux a USB device the kernel keeps
// disconnecting, resetting or failing to enumerate (its log, /dev/kmsg; or its device number changing in
// sysfs when the log is not readable) is not answering; on Windows the PnP problem code says why.
import { readdir, readFile } from '../fs-async.js';
import { join } from 'node:path';
import { z } from 'zod';
import { positiveDurationMs } from '@tillwatch/config';
import { registerCollector, type DeviceRef, type MetricFamily, type Sample } from '../collector.js';
import { KernelLog } from '../kernel-log.js';
import { uniqueList } from './schemas.js';
import {
  defaultPowerShell,
  defaultSerialPorts,
  type PowerShellRunner,
  type SerialPortInfo,
} from '../host.js';

// Unquoted in YAML, "0519" is the number 519 and "05e0" is 5: ask for quotes rather than guess.
const hex4 = z
  .string({
    error: (iss) =>
      typeof iss.input === 'number'
        ? 'quote the id, e.g. "0519": unquoted YAML reads it as a number'
        : 'expected 4 hex digits such as "0c2e"',
  })
  .regex(/^[0-9a-fA-F]{4}$/, { error: 'expected 4 hex digits such as "0c2e"' })
  .transform((s) => s.toLowerCase());

const peripheralSchema = z
  .strictObject({
    device: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected letters, digits, "_", "." or "-"' }),
    kind: z.enum(['scanner', 'printer', 'scales', 'pinpad', 'drawer', 'other'], {
      error: 'expected scanner, printer, scales, pinpad, drawer or other',
    }),
    usb: z
      .strictObject({
        vendor: hex4,
        product: hex4.optional(),
        /**
         * When a USB device counts as not answering: this many disconnects, or kernel-reported errors and
         * resets, within `window`.
         */
        flapping: z
          .strictObject({
            window: positiveDurationMs.default(600_000),
            disconnects: z.number().int().min(1).default(3),
            errors: z.number().int().min(1).default(5),
          })
          .default({ window: 600_000, disconnects: 3, errors: 5 }),
      })
      .optional(),
    serial: z
      .strictObject({ port: z.string().min(1).optional(), vendor: hex4.optional(), product: hex4.optional() })
      .refine((s) => s.port !== undefined || s.vendor !== undefined, { error: 'set port or vendor' })
      .optional(),
  })
  .refine((p) => (p.usb === undefined) !== (p.serial === undefined), {
    error: 'set exactly one of usb or serial',
  });

const schema = uniqueList(peripheralSchema, 'device', (d) => `duplicate device "${d}"`);

type Peripheral = z.infer<typeof peripheralSchema>;

export interface UsbDevice {
  vendor: string;
  product: string;
  /** false when the OS lists the device with a driver problem (Windows ConfigManagerErrorCode != 0). */
  working: boolean;
  /** Linux: the sysfs name, which is the bus and port path the kernel log names (1-2, 1-1.3). */
  path?: string;
  /** Linux: the device number, new at every (re)connection. */
  devnum?: number;
  /** Windows: ConfigManagerErrorCode when not 0. */
  problem?: number;
}

export async function listLinuxUsb(sysfsRoot: string): Promise<UsbDevice[]> {
  const dir = join(sysfsRoot, 'sys', 'bus', 'usb', 'devices');
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return []; // no USB bus (containers, some VMs): nothing is present
  }
  const out: UsbDevice[] = [];
  await Promise.all(
    entries.map(async (e) => {
      try {
        const [v, p, n] = await Promise.all([
          readFile(join(dir, e, 'idVendor'), 'utf8'),
          readFile(join(dir, e, 'idProduct'), 'utf8'),
          readFile(join(dir, e, 'devnum'), 'utf8').catch(() => ''),
        ]);
        out.push({
          vendor: v.trim().toLowerCase(),
          product: p.trim().toLowerCase(),
          working: true,
          path: e,
          ...(n.trim() !== '' && { devnum: Number(n.trim()) }),
        });
      } catch {
        // Interface directories (1-1:1.0) carry no ids.
      }
    }),
  );
  return out;
}

export const WINDOWS_PNP_SCRIPT =
  "Get-CimInstance Win32_PnPEntity | Where-Object { $_.PNPDeviceID -match 'VID_[0-9A-F]{4}' } | " +
  'Select-Object Name,PNPDeviceID,Status,ConfigManagerErrorCode | ConvertTo-Json -Compress';

/** Parses Win32_PnPEntity rows (ConvertTo-Json output: one object, or an array of them). */
export function parseWindowsPnp(json: string): UsbDevice[] {
  const text = json.trim();
  if (!text) return [];
  const parsed = JSON.parse(text) as unknown;
  const rows = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
  const out: UsbDevice[] = [];
  for (const r of rows) {
    const m = /VID_([0-9A-F]{4})&PID_([0-9A-F]{4})/i.exec(String(r.PNPDeviceID ?? ''));
    if (!m?.[1] || !m[2]) continue;
    const problem = Number(r.ConfigManagerErrorCode ?? 0);
    out.push({
      vendor: m[1].toLowerCase(),
      product: m[2].toLowerCase(),
      working: problem === 0,
      ...(problem !== 0 && { problem }),
    });
  }
  return out;
}

export async function listWindowsUsb(run: PowerShellRunner, signal: AbortSignal): Promise<UsbDevice[]> {
  return parseWindowsPnp(await run(WINDOWS_PNP_SCRIPT, signal));
}

function matchUsb(p: NonNullable<Peripheral['usb']>, list: UsbDevice[]): UsbDevice[] {
  return list.filter((d) => d.vendor === p.vendor && (p.product === undefined || d.product === p.product));
}

function matchSerial(p: NonNullable<Peripheral['serial']>, list: SerialPortInfo[], win: boolean): boolean {
  const norm = (s: string) => (win ? s.toLowerCase() : s);
  return list.some(
    (port) =>
      (p.port === undefined || norm(port.path) === norm(p.port)) &&
      (p.vendor === undefined || port.vendorId?.toLowerCase() === p.vendor) &&
      (p.product === undefined || port.productId?.toLowerCase() === p.product),
  );
}

/** Windows PnP problem codes (CM_PROB_*) a technician meets on tills, as `reason` label values. */
const PNP_PROBLEMS: Record<number, string> = {
  1: 'not_configured',
  3: 'driver_failed',
  10: 'cannot_start',
  14: 'restart_needed',
  18: 'reinstall_driver',
  22: 'disabled',
  24: 'not_present',
  28: 'no_driver',
  31: 'not_working',
  43: 'reported_failure',
  45: 'disconnected',
};

export function pnpReason(code: number): string {
  return `pnp_${PNP_PROBLEMS[code] ?? code}`;
}

/** Kernel messages about a USB device by its port path (drivers/usb/core/hub.c wording). */
export function classifyUsbMessage(
  text: string,
): { path: string; event: 'disconnect' | 'error' } | undefined {
  const m = /^usb (\d+-[\d.]+): (.*)$/.exec(text);
  if (!m) return undefined;
  const [, path, msg] = m as unknown as [string, string, string];
  if (/USB disconnect/.test(msg)) return { path, event: 'disconnect' };
  if (
    /error -\d+|unable to enumerate|can't set config|cannot reset|not accepting address|reset \S+ USB device|device not responding/.test(
      msg,
    )
  )
    return { path, event: 'error' };
  return undefined;
}

const USB_EVENTS = ['disconnect', 'error'] as const;
type UsbEvent = (typeof USB_EVENTS)[number];

/** Per configured USB peripheral: what the kernel said about it, counted and kept for the window. */
class UsbHealth {
  readonly totals: Record<UsbEvent, number> = { disconnect: 0, error: 0 };
  private recent: Array<{ at: number; event: UsbEvent }> = [];
  /** Port paths the device was last seen on: the log names the port, and a gone device has no sysfs entry. */
  readonly paths = new Set<string>();
  devnum: number | undefined;

  add(event: UsbEvent, at: number | undefined): void {
    this.totals[event] += 1;
    if (at !== undefined) this.recent.push({ at, event });
  }

  inWindow(now: number, windowMs: number): Record<UsbEvent, number> {
    this.recent = this.recent.filter((e) => e.at > now - windowMs);
    const out: Record<UsbEvent, number> = { disconnect: 0, error: 0 };
    for (const e of this.recent) out[e.event] += 1;
    return out;
  }
}

registerCollector({
  name: 'peripheral',
  configKey: 'peripherals',
  schema,
  defaultEnabled: (list) => list.length > 0,
  defaultIntervalSeconds: 30,
  defaultTimeoutSeconds: 15,
  create(list, env) {
    const win = env.platform === 'win32';
    const devices: DeviceRef[] = list.map((p) => ({ device: p.device, kind: p.kind }));
    const needUsb = list.some((p) => p.usb);
    const needSerial = list.some((p) => p.serial);
    const health = new Map(list.filter((p) => p.usb).map((p) => [p.device, new UsbHealth()]));
    const kernelLog = !win && needUsb ? new KernelLog(env.kernelLog ?? '/dev/kmsg') : undefined;
    let kernelLogReadable = true;
    return {
      devices,
      async close() {
        await kernelLog?.close();
      },
      async collect(ctx) {
        const [usb, serial] = await Promise.all([
          needUsb
            ? win
              ? listWindowsUsb(env.powershell ?? defaultPowerShell, ctx.signal)
              : listLinuxUsb(env.sysfsRoot ?? '/')
            : Promise.resolve([]),
          needSerial ? (env.serialPorts ?? defaultSerialPorts)() : Promise.resolve([]),
        ]);
        const now = ctx.now();
        const matched = new Map(list.map((p) => [p.device, p.usb ? matchUsb(p.usb, usb) : []]));
        for (const [device, found] of matched) {
          const h = health.get(device);
          for (const d of found) if (d.path) h?.paths.add(d.path);
        }
        if (kernelLog) {
          try {
            const records = await kernelLog.read();
            // What was logged before the exporter started is counted, but is too old to say anything now.
            const at = kernelLog.first ? undefined : now;
            for (const r of records) {
              const ev = classifyUsbMessage(r.text);
              if (!ev) continue;
              for (const h of health.values()) if (h.paths.has(ev.path)) h.add(ev.event, at);
            }
            kernelLogReadable = true;
          } catch (err) {
            if (kernelLogReadable)
              ctx.logger.info(
                { path: kernelLog.path, err: (err as Error).message },
                'kernel log not readable: USB reconnections are counted from sysfs device numbers only',
              );
            kernelLogReadable = false;
          }
        }
        const present: Sample[] = [];
        const events: Sample[] = [];
        const problems: Sample[] = [];
        const up: Array<DeviceRef & { up: boolean }> = [];
        for (const p of list) {
          let isPresent = false;
          let working = false;
          const reasons: string[] = [];
          if (p.usb) {
            const found = matched.get(p.device) ?? [];
            isPresent = found.length > 0;
            working = found.some((d) => d.working);
            if (isPresent && !working)
              for (const d of found) if (d.problem !== undefined) reasons.push(pnpReason(d.problem));
            const h = health.get(p.device);
            if (h && !win) {
              const devnum = found[0]?.devnum;
              // Without the kernel log, a new device number is the only trace of a reconnection.
              if (!kernelLogReadable && devnum !== undefined && h.devnum !== undefined && devnum !== h.devnum)
                h.add('disconnect', now);
              if (devnum !== undefined) h.devnum = devnum;
              const recent = h.inWindow(now, p.usb.flapping.window);
              if (recent.disconnect >= p.usb.flapping.disconnects) reasons.push('usb_reconnecting');
              if (recent.error >= p.usb.flapping.errors) reasons.push('usb_errors');
              // Only events that happened: a steady device costs no series (docs/scaling.md, "Series budget"),
              // and increase() copes with a counter that appears at its first event.
              for (const event of USB_EVENTS)
                if (h.totals[event] > 0)
                  events.push({ labels: { device: p.device, event }, value: h.totals[event] });
            }
          } else if (p.serial) {
            isPresent = matchSerial(p.serial, serial, win);
            working = isPresent;
          }
          present.push({ labels: { device: p.device, kind: p.kind }, value: isPresent ? 1 : 0 });
          for (const reason of new Set(reasons))
            problems.push({ labels: { device: p.device, reason }, value: 1 });
          up.push({ device: p.device, kind: p.kind, up: isPresent && working && reasons.length === 0 });
        }
        const families: MetricFamily[] = [
          {
            name: 'till_device_present',
            help: 'Whether the OS enumerates the configured USB/serial device (read without opening any port).',
            type: 'gauge',
            samples: present,
          },
        ];
        if (events.length > 0)
          families.push({
            name: 'till_device_usb_events_total',
            help: 'USB disconnects, and errors or resets the kernel reported, for the configured device since the exporter started.',
            type: 'counter',
            samples: events,
          });
        if (problems.length > 0)
          families.push({
            name: 'till_device_problem',
            help: 'Why a present device counts as not answering (1 per reason): USB reconnecting or errors, or the Windows PnP problem.',
            type: 'gauge',
            samples: problems,
          });
        return { families, devices: up };
      },
    };
  },
});
