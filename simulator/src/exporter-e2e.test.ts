// The whole exporter (createExporter) pointed at the emulators: the /metrics text carries the
// device series, passes `promtool check metrics`, and stays valid with every device faulty.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createExporter, parseConfig, registeredCollectors } from '@tillwatch/exporter';
import { startDevices, type RunningDevices } from './devices.js';

const ports = {
  shtrih: { port: 0 },
  atol: { port: 0 },
  utm: { port: 0 },
  marking: { port: 0 },
  control: { port: 0 },
};

function promtoolCheck(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('exporter against the emulators', () => {
  let d: RunningDevices;
  beforeAll(async () => {
    d = await startDevices(ports);
  });
  afterAll(() => d.stop());

  function exporter() {
    const config = parseConfig({
      identity: { chain: 'demo', region: '77', store: '0001', till: '01' },
      fiscal: [
        {
          device: 'fiscal',
          driver: 'shtrih',
          address: d.shtrih.address,
          reply_timeout: '2s',
          shift_state_file: '',
        },
        { device: 'fiscal_atol', driver: 'atol', address: d.atol.address, reply_timeout: '2s' },
      ],
      utm: { url: d.utm.address, request_timeout: '2s' },
      marking: { url: d.marking.address, username: 'admin', password: 'admin', request_timeout: '2s' },
    });
    return createExporter(config, {
      logger: pino({ level: 'silent' }),
      collectors: registeredCollectors().filter((c) => ['fiscal', 'utm', 'marking'].includes(c.name)),
    });
  }

  it('exposes every device as up and passes promtool check metrics', async () => {
    const e = exporter();
    await e.start();
    try {
      const text = await e.metrics();
      for (const [device, kind] of [
        ['fiscal', 'fiscal'],
        ['fiscal_atol', 'fiscal'],
        ['utm', 'utm'],
        ['marking', 'marking'],
      ]) {
        expect(text).toContain(`till_device_up{device="${device}",kind="${kind}"} 1`);
      }
      expect(text).toContain('till_collector_success{collector="fiscal"} 1');
      expect(text).toMatch(
        /till_fiscal_info\{device="fiscal",driver="shtrih",model="ШТРИХ-М-01Ф",serial="12345678",fn_serial="9999078900012345",firmware="1.0.12345"\} 1/,
      );
      expect(text).toContain('till_fiscal_errors_total{device="fiscal_atol",reason="timeout"} 0');
      expect(text).toContain('till_marking_status{device="marking",status="ready"} 1');
      expect(text).toMatch(
        /till_utm_certificate_expiry_timestamp_seconds\{device="utm",certificate="gost"\} \d+/,
      );
      const check = promtoolCheck(text);
      expect(check.output).toBe('');
      expect(check.status).toBe(0);
    } finally {
      await e.stop();
    }
  });

  it('reports garbage-answering devices as down with counted errors, and stays valid', async () => {
    d.shtrih.addFault({ type: 'garbage' });
    d.atol.addFault({ type: 'malformed_json' });
    d.utm.addFault({ type: 'http_500' });
    d.marking.addFault({ type: 'garbage' });
    const e = exporter();
    try {
      await e.start();
      const text = await e.metrics();
      for (const device of ['fiscal', 'fiscal_atol', 'utm', 'marking']) {
        expect(text).toMatch(new RegExp(`till_device_up\\{device="${device}",kind="\\w+"\\} 0`));
      }
      expect(text).toContain('till_fiscal_errors_total{device="fiscal",reason="framing"} 1');
      expect(text).toContain('till_fiscal_errors_total{device="fiscal_atol",reason="parse"} 1');
      expect(text).toContain('till_collector_success{collector="fiscal"} 1');
      expect(text).not.toContain('till_fiscal_paper_present');
      expect(text).not.toContain('till_marking_status');
      const check = promtoolCheck(text);
      expect(check.output).toBe('');
      expect(check.status).toBe(0);
    } finally {
      await e.stop();
      for (const x of [d.shtrih, d.atol, d.utm, d.marking]) x.clearFaults();
    }
  });
});
