// A USB device that keeps dropping off the bus is "not answering": testdata/usb/flapping-scanner.yml is
// replayed into a sysfs tree and a kernel log file step by step, the exporter polls after each step, and
// promtool evaluates the shipped rules on the last /metrics.
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { promtoolAlerts, seriesValue } from '@tillwatch/testkit';
import { registeredCollectors } from '../collector.js';
import { parseConfig } from '../config.js';
import { createExporter } from '../exporter.js';
import { classifyUsbMessage } from './peripheral.js';
import './index.js';

interface Step {
  at: number;
  devnum: number | null;
  kmsg: string[];
}
interface Recording {
  device: { path: string; vendor: string; product: string };
  history: string[];
  devnum: number;
  flapping: Step[];
  steady: Step[];
}

const rec = parse(
  readFileSync(fileURLToPath(new URL('../testdata/usb/flapping-scanner.yml', import.meta.url)), 'utf8'),
) as Recording;
const ALERTS = ['TillPeripheralNotAnswering', 'TillPeripheralMissing'];

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Replays a timeline; returns the /metrics text after the last step. */
async function replay(steps: Step[], opts: { kernelLogReadable: boolean }): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'tillwatch-usb-'));
  dirs.push(root);
  const devices = join(root, 'sys', 'bus', 'usb', 'devices');
  const dev = join(devices, rec.device.path);
  const setSysfs = (devnum: number | null) => {
    rmSync(dev, { recursive: true, force: true });
    if (devnum === null) return;
    mkdirSync(dev, { recursive: true });
    writeFileSync(join(dev, 'idVendor'), `${rec.device.vendor}\n`);
    writeFileSync(join(dev, 'idProduct'), `${rec.device.product}\n`);
    writeFileSync(join(dev, 'devnum'), `${devnum}\n`);
  };
  mkdirSync(devices, { recursive: true });
  setSysfs(rec.devnum);
  // An unreadable log is one that does not exist here (on a till: /dev/kmsg without CAP_SYSLOG).
  const kmsg = join(root, opts.kernelLogReadable ? 'kmsg' : 'missing', 'kmsg');
  if (opts.kernelLogReadable) {
    mkdirSync(join(root, 'kmsg'));
    writeFileSync(kmsg, rec.history.map((l) => `${l}\n`).join(''));
  }
  const start = Date.parse('2026-11-25T09:00:00Z');
  let clock = start;
  const e = createExporter(
    parseConfig({
      identity: { chain: 'c1', region: 'r1', store: 's1', till: 't1' },
      peripherals: [
        {
          device: 'scanner',
          kind: 'scanner',
          usb: { vendor: rec.device.vendor, product: rec.device.product },
        },
      ],
    }),
    {
      logger: pino({ level: 'silent' }),
      now: () => clock,
      platform: 'linux',
      sysfsRoot: root,
      kernelLog: kmsg,
      collectors: registeredCollectors().filter((c) => c.name === 'peripheral'),
    },
  );
  await e.start();
  try {
    for (const s of steps) {
      clock = start + s.at * 60_000;
      setSysfs(s.devnum);
      if (opts.kernelLogReadable) appendFileSync(kmsg, s.kmsg.map((l) => `${l}\n`).join(''));
      await e.collectNow();
    }
    return await e.metrics();
  } finally {
    await e.stop();
  }
}

async function firing(text: string): Promise<string[]> {
  return (await promtoolAlerts({ exposition: text, alertnames: ALERTS })).map((a) => a.alertname);
}

describe('USB peripheral health from sysfs and the kernel log', () => {
  it('reads the kernel wording of disconnects, resets and enumeration errors', () => {
    expect(classifyUsbMessage('usb 1-2: USB disconnect, device number 3')).toEqual({
      path: '1-2',
      event: 'disconnect',
    });
    expect(classifyUsbMessage('usb 1-1.3: device descriptor read/64, error -71')).toEqual({
      path: '1-1.3',
      event: 'error',
    });
    expect(classifyUsbMessage('usb 1-2: reset full-speed USB device number 3 using xhci_hcd')).toEqual({
      path: '1-2',
      event: 'error',
    });
    expect(classifyUsbMessage('usb 1-2: new full-speed USB device number 4 using xhci_hcd')).toBeUndefined();
    expect(
      classifyUsbMessage('hid-generic 0003:0C2E:0B61.0002: input,hidraw0: USB HID v1.11 Keyboard'),
    ).toBeUndefined();
  });

  it('turns a scanner that disconnects three times in five minutes into "not answering", and the alert fires', async () => {
    const text = await replay(rec.flapping, { kernelLogReadable: true });
    expect(text).toContain('till_device_present{device="scanner",kind="scanner"} 1');
    expect(text).toContain('till_device_up{device="scanner",kind="scanner"} 0');
    expect(text).toContain('till_device_problem{device="scanner",reason="usb_reconnecting"} 1');
    expect(seriesValue(text, 'till_device_usb_events_total{device="scanner",event="disconnect"}')).toBe(3);
    expect(seriesValue(text, 'till_device_usb_events_total{device="scanner",event="error"}')).toBe(4);
    expect(await firing(text)).toEqual(['TillPeripheralNotAnswering']);
  });

  it('counts the reconnections from sysfs device numbers when the kernel log is not readable', async () => {
    const text = await replay(rec.flapping, { kernelLogReadable: false });
    expect(seriesValue(text, 'till_device_usb_events_total{device="scanner",event="disconnect"}')).toBe(3);
    expect(text).toContain('till_device_up{device="scanner",kind="scanner"} 0');
    expect(await firing(text)).toEqual(['TillPeripheralNotAnswering']);
  });

  it('keeps the same scanner green while only other devices come and go', async () => {
    const text = await replay(rec.steady, { kernelLogReadable: true });
    expect(text).toContain('till_device_up{device="scanner",kind="scanner"} 1');
    expect(text).not.toContain('till_device_problem');
    // A device without events costs no series.
    expect(text).not.toContain('till_device_usb_events_total');
    expect(await firing(text)).toEqual([]);
  });
});
