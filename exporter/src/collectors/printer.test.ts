// Printers through a real CUPS scheduler on loopback (testkit's startCups: Debian's cupsd with a stand-in
// backend for the USB receipt printer): what the device reports becomes the printer's state in /metrics,
// and the shipped rules fire on it (promtool).
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closedPort,
  firstMetrics,
  promtoolAlerts,
  seriesValue,
  startCups,
  waitFor,
  type RunningCups,
} from '@tillwatch/testkit';
import { createExporter } from '../exporter.js';
import { parseConfig } from '../config.js';
import { registeredCollectors } from '../collector.js';
import './index.js';

const PRINTER_ALERTS = [
  'TillPrinterPaperOut',
  'TillPrinterCoverOpen',
  'TillPrinterQueueStuck',
  'TillPeripheralNotAnswering',
];

async function scrape(printers: unknown[]): Promise<string> {
  const e = createExporter(
    parseConfig({ identity: { chain: 'c1', region: 'r1', store: 's1', till: 't1' }, printers }),
    {
      logger: pino({ level: 'silent' }),
      collectors: registeredCollectors().filter((c) => c.name === 'printer'),
    },
  );
  return firstMetrics(e);
}

async function firing(text: string): Promise<string[]> {
  return (await promtoolAlerts({ exposition: text, alertnames: PRINTER_ALERTS }))
    .map((a) => a.alertname)
    .sort();
}

describe('printer collector against cupsd', () => {
  let cups: RunningCups;
  const receipt = () => [{ device: 'receipt', uri: cups.printerUri('receipt') }];
  /** Scrapes until `check` holds, so a test waits for cupsd and the backend rather than for a fixed time. */
  const until = (what: string, check: (text: string) => boolean) =>
    waitFor(
      what,
      async () => {
        const text = await scrape(receipt());
        return check(text) ? text : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );

  beforeAll(async () => {
    cups = await startCups();
    await cups.addPrinter('receipt');
  }, 30_000);
  afterAll(() => cups?.stop());

  it('reports an idle printer with an empty queue, and nothing fires', async () => {
    const text = await scrape(receipt());
    expect(text).toContain('till_device_up{device="receipt",kind="printer"} 1');
    expect(seriesValue(text, 'till_printer_state{device="receipt"}')).toBe(3);
    expect(seriesValue(text, 'till_printer_queued_jobs{device="receipt"}')).toBe(0);
    expect(text).not.toContain('till_printer_state_reason');
    expect(await firing(text)).toEqual([]);
  });

  it('turns paper out on the printer into media-empty and fires the paper-out alert', async () => {
    cups.setDeviceState('receipt', 'media-empty-error');
    await cups.print('receipt');
    const text = await until('media-empty in /metrics', (t) =>
      t.includes('till_printer_state_reason{device="receipt",reason="media-empty"} 1'),
    );
    expect(seriesValue(text, 'till_printer_queued_jobs{device="receipt"}')).toBe(1);
    expect(text).toContain('till_device_up{device="receipt",kind="printer"} 1');
    expect(await firing(text)).toEqual(['TillPrinterPaperOut']);
  });

  it('turns an open cover into cover-open and fires the cover alert instead', async () => {
    cups.setDeviceState('receipt', 'cover-open-error');
    const text = await until(
      'cover-open in /metrics',
      (t) =>
        t.includes('till_printer_state_reason{device="receipt",reason="cover-open"} 1') &&
        !t.includes('reason="media-empty"'),
    );
    expect(await firing(text)).toEqual(['TillPrinterCoverOpen']);
  });

  it('clears once the printer prints again: the job completes, nothing fires', async () => {
    cups.setDeviceState('receipt');
    const text = await until(
      'an empty queue',
      (t) => seriesValue(t, 'till_printer_queued_jobs{device="receipt"}') === 0,
    );
    expect(text).not.toContain('till_printer_state_reason');
    expect(seriesValue(text, 'till_printer_oldest_job_age_seconds{device="receipt"}')).toBe(0);
    expect(await firing(text)).toEqual([]);
  });

  it('reports a CUPS that does not answer as the printer not answering, with the failure counted', async () => {
    const text = await scrape([
      { device: 'receipt', uri: `ipp://127.0.0.1:${await closedPort()}/printers/receipt` },
    ]);
    expect(text).toContain('till_device_up{device="receipt",kind="printer"} 0');
    expect(text).toContain('till_printer_errors_total{device="receipt",reason="connection"} 1');
    expect(text).not.toContain('till_printer_state{');
    expect(await firing(text)).toEqual(['TillPeripheralNotAnswering']);
  });
});
