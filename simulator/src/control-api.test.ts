// The control API and the devices runner: state changes and faults made over HTTP reach the
// exporter's collectors through the emulated devices.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FiscalCollector, fiscalSchema } from '@tillwatch/exporter/collectors/fiscal';
import { MarkingCollector, markingSchema } from '@tillwatch/exporter/collectors/marking';
import { collectOnce, upOf, valueOf } from './testing/collect.js';
import { startDevices, type RunningDevices } from './devices.js';

const ports = {
  shtrih: { port: 0 },
  atol: { port: 0 },
  utm: { port: 0 },
  marking: { port: 0 },
  control: { port: 0 },
};

describe('control API', () => {
  let d: RunningDevices;
  let api: string;
  beforeAll(async () => {
    d = await startDevices(ports);
    api = d.control.url;
  });
  afterAll(() => d.stop());

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };

  it('lists one device of each kind with its address', async () => {
    const r = await call('GET', '/devices');
    expect(r.status).toBe(200);
    expect(r.body).toEqual([
      { id: 'fiscal', kind: 'shtrih', address: d.shtrih.address },
      { id: 'fiscal_atol', kind: 'atol', address: d.atol.address },
      { id: 'utm', kind: 'utm', address: d.utm.address },
      { id: 'marking', kind: 'marking', address: d.marking.address },
    ]);
  });

  it('changes the Shtrih state over HTTP and the collector sees it', async () => {
    const r = await call('PATCH', '/devices/fiscal/state', {
      paperPresent: false,
      fnWarnings: { memory_full: true },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      paperPresent: false,
      fnWarnings: { memory_full: true, replace_urgent: false },
    });
    const c = new FiscalCollector(
      fiscalSchema.parse([{ device: 'fiscal', driver: 'shtrih', address: d.shtrih.address }]),
    );
    const m = await collectOnce(c, Date.now);
    expect(valueOf(m, 'till_fiscal_paper_present')).toBe(0);
    expect(valueOf(m, 'till_fiscal_fn_warning', { warning: 'memory_full' })).toBe(1);
    expect((await call('GET', '/devices/fiscal')).body).toMatchObject({
      kind: 'shtrih',
      state: { paperPresent: false },
      faults: [],
    });
  });

  it('injects and clears faults over HTTP', async () => {
    const c = new MarkingCollector(markingSchema.parse({ url: d.marking.address, request_timeout: '2s' })!);
    const added = await call('POST', '/devices/marking/faults', { type: 'http_500' });
    expect(added).toEqual({ status: 201, body: { type: 'http_500' } });
    expect((await call('GET', '/devices/marking/faults')).body).toEqual([{ type: 'http_500' }]);
    expect(upOf(await collectOnce(c, Date.now), 'marking')).toBe(false);
    expect((await call('DELETE', '/devices/marking/faults')).status).toBe(204);
    expect(upOf(await collectOnce(c, Date.now), 'marking')).toBe(true);
  });

  it('answers bad requests with a 4xx that names the problem', async () => {
    expect(await call('PATCH', '/devices/fiscal/state', { paperPresent: 'yes' })).toEqual({
      status: 400,
      body: {
        error: {
          code: 'invalid_request',
          message: 'paperPresent: Invalid input: expected boolean, received string',
        },
      },
    });
    expect((await call('PATCH', '/devices/fiscal/state', { noSuchField: 1 })).body).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringContaining('noSuchField') },
    });
    expect((await call('POST', '/devices/utm/faults', { type: 'nak_storm' })).body).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringContaining('not supported') },
    });
    expect((await call('POST', '/devices/utm/faults', '{"type":')).body).toMatchObject({
      error: { code: 'invalid_json' },
    });
    expect(await call('GET', '/devices/nope/state')).toEqual({
      status: 404,
      body: { error: { code: 'unknown_device', message: 'no device "nope"' } },
    });
  });
});
