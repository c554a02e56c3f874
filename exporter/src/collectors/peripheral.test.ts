import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { registeredCollectors } from '../collector.js';
import { listLinuxUsb, parseWindowsPnp, WINDOWS_PNP_SCRIPT } from './peripheral.js';

const testdata = (p: string) => fileURLToPath(new URL(`../testdata/${p}`, import.meta.url));

describe('USB enumeration', () => {
  it('reads vendor and product ids from a sysfs tree, skipping interfaces', async () => {
    const list = await listLinuxUsb(testdata('sysfs'));
    expect(list.map((d) => `${d.vendor}:${d.product}`).sort()).toEqual([
      '0519:0003',
      '0c2e:0b61',
      '1d6b:0002',
      '1fc9:0083',
    ]);
  });

  it('finds nothing, without failing, where there is no USB bus', async () => {
    expect(await listLinuxUsb('/nonexistent')).toEqual([]);
  });

  it('parses recorded Win32_PnPEntity JSON, one object or an array', () => {
    const list = parseWindowsPnp(readFileSync(testdata('powershell/win32-pnp.json'), 'utf8'));
    expect(list).toContainEqual({ vendor: '0c2e', product: '0b61', working: true });
    expect(list).toContainEqual({ vendor: '0519', product: '0003', working: false, problem: 28 });
    expect(list.some((d) => d.vendor === '1a86')).toBe(true);
    expect(parseWindowsPnp(readFileSync(testdata('powershell/win32-pnp-single.json'), 'utf8'))).toHaveLength(
      1,
    );
    expect(parseWindowsPnp('')).toEqual([]);
  });
});

describe('peripheral collector on Windows', () => {
  it('reports a device with a driver error as present but not up, and serial ports by COM name', async () => {
    await import('./peripheral.js');
    const def = registeredCollectors().find((d) => d.name === 'peripheral');
    if (!def) throw new Error('peripheral collector not registered');
    const scripts: string[] = [];
    const collector = def.create(
      def.schema.parse([
        { device: 'scanner', kind: 'scanner', usb: { vendor: '0c2e', product: '0b61' } },
        { device: 'printer', kind: 'printer', usb: { vendor: '0519' } },
        { device: 'scales', kind: 'scales', serial: { port: 'COM5' } },
        { device: 'pinpad', kind: 'pinpad', serial: { vendor: '11ca' } },
      ]),
      {
        identity: { chain: 'c', region: 'r', store: 's', till: 't' },
        platform: 'win32',
        logger: pino({ level: 'silent' }),
        configDir: '.',
        powershell: async (script) => {
          scripts.push(script);
          return readFileSync(testdata('powershell/win32-pnp.json'), 'utf8');
        },
        serialPorts: async () => [{ path: 'com5', vendorId: '1A86', productId: '7523' }],
      },
    );
    const r = await collector.collect({
      signal: new AbortController().signal,
      logger: pino({ level: 'silent' }),
      now: Date.now,
    });
    expect(scripts).toEqual([WINDOWS_PNP_SCRIPT]);
    expect(r.families[0]?.samples.map((s) => [s.labels.device, s.value])).toEqual([
      ['scanner', 1],
      ['printer', 1],
      ['scales', 1],
      ['pinpad', 0],
    ]);
    expect(r.devices?.map((d) => [d.device, d.up])).toEqual([
      ['scanner', true],
      ['printer', false],
      ['scales', true],
      ['pinpad', false],
    ]);
    // The PnP problem code says why: 28, no driver installed.
    expect(r.families.find((f) => f.name === 'till_device_problem')?.samples).toEqual([
      { labels: { device: 'printer', reason: 'pnp_no_driver' }, value: 1 },
    ]);
  });
});
