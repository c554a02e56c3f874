// The fleet against real exporters: a small inventory (2 stores × 2 tills on free loopback ports),
// scraped over HTTP like Prometheus does, with faults injected through the control API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriesValue } from '@tillwatch/testkit';
import { runFleet, type RunningFleet } from './run.js';
import { smallInventory } from './testdata/inventory.js';

let running: RunningFleet;
let api: string;

async function scrape(address: string): Promise<string> {
  const res = await fetch(`http://${address}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** Runs every till's collectors once, so a fault shows without waiting for the interval. */
async function collectAll(): Promise<void> {
  await Promise.all([...running.fleet.tills.values()].map((t) => t.collectNow()));
}

function address(till: string): string {
  const t = running.fleet.tills.get(till);
  if (!t) throw new Error(`no till ${till}`);
  return t.spec.address;
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  // A long interval: the tests run collections themselves (collectNow), so nothing races them.
  running = await runFleet({
    inventory: await smallInventory(2, 2),
    controlListen: '127.0.0.1:0',
    intervalMs: 60_000,
  });
  api = running.control.url;
});
afterAll(() => running?.stop());

describe('fleet simulator', () => {
  it('prints the ready line with the till port range and the control URL', () => {
    const ports = running.fleet.list().map((t) => Number(t.address.split(':')[1]));
    expect(running.readyLine).toBe(
      `fleet ready: 4 tills on 127.0.0.1:${Math.min(...ports)}-${Math.max(...ports)}, control ${api}`,
    );
  });

  it("serves every till's /metrics on its address with its identity and every device up", async () => {
    for (const t of running.fleet.list()) {
      const text = await scrape(t.address);
      expect(text).toContain(
        `till_info{identity_chain="test",identity_region="r1",identity_store="${t.store}",identity_till="${t.till}",os="windows"} 1`,
      );
      expect(seriesValue(text, 'till_device_up{device="fiscal",kind="fiscal"}')).toBe(1);
      expect(seriesValue(text, 'till_device_up{device="scanner",kind="scanner"}')).toBe(1);
      expect(seriesValue(text, 'till_device_up{device="marking",kind="marking"}')).toBe(1);
      const hasUtm = t.till.endsWith('t1');
      expect(seriesValue(text, 'till_device_up{device="utm",kind="utm"}')).toBe(hasUtm ? 1 : undefined);
      expect(text).toMatch(new RegExp(`till_fiscal_info\\{device="fiscal",driver="${t.fiscal}"`));
      expect(seriesValue(text, 'till_fiscal_paper_present{device="fiscal"}')).toBe(1);
    }
  });

  it('lists the tills with their place in the hierarchy', async () => {
    const body = (await (await fetch(`${api}/fleet`)).json()) as { tills: Array<Record<string, unknown>> };
    expect(body.tills.map((t) => t.till)).toEqual(['s1-t1', 's1-t2', 's2-t1', 's2-t2']);
    expect(body.tills[0]).toMatchObject({ store: 's1', region: 'r1', chain: 'test', faults: [] });
    expect((await fetch(`${api}/healthz`)).status).toBe(200);
  });

  it('paper_out on one till turns its paper sensor to 0 and no other till changes; clearing restores it', async () => {
    const res = await post('/tills/s1-t2/faults', { fault: 'paper_out' });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ till: 's1-t2', fault: 'paper_out' });
    await collectAll();
    for (const t of running.fleet.list()) {
      const text = await scrape(t.address);
      expect(seriesValue(text, 'till_fiscal_paper_present{device="fiscal"}')).toBe(
        t.till === 's1-t2' ? 0 : 1,
      );
    }
    const view = (await (await fetch(`${api}/tills/s1-t2`)).json()) as { faults: string[] };
    expect(view.faults).toEqual(['paper_out']);

    expect((await fetch(`${api}/tills/s1-t2/faults/paper_out`, { method: 'DELETE' })).status).toBe(204);
    await collectAll();
    expect(seriesValue(await scrape(address('s1-t2')), 'till_fiscal_paper_present{device="fiscal"}')).toBe(1);
  });

  it('each till fault reaches the metric its alert reads, through the real drivers', async () => {
    const till = 's2-t1'; // Shtrih, with a UTM
    const faults = [
      'cover_open',
      'fn_expiring',
      'clock_drift',
      'utm_cert_expiring',
      'marking_not_ready',
      'scanner_missing',
      'pos_crashloop',
      'ofd_down',
    ];
    for (const fault of faults) expect((await post(`/tills/${till}/faults`, { fault })).status).toBe(201);
    await collectAll();
    const text = await scrape(address(till));
    const now = Date.now() / 1000;
    expect(seriesValue(text, 'till_fiscal_cover_open{device="fiscal"}')).toBe(1);
    const fn = seriesValue(text, 'till_fiscal_fn_expiry_timestamp_seconds{device="fiscal"}') as number;
    expect((fn - now) / 86400).toBeGreaterThan(3);
    expect((fn - now) / 86400).toBeLessThanOrEqual(7);
    expect(
      Math.abs(seriesValue(text, 'till_fiscal_clock_offset_seconds{device="fiscal"}') as number),
    ).toBeGreaterThan(240);
    const gost = seriesValue(
      text,
      'till_utm_certificate_expiry_timestamp_seconds{device="utm",certificate="gost"}',
    );
    expect(((gost as number) - now) / 86400).toBeLessThan(14);
    expect(seriesValue(text, 'till_marking_status{device="marking",status="ready"}')).toBe(0);
    expect(seriesValue(text, 'till_device_present{device="scanner",kind="scanner"}')).toBe(0);
    expect(seriesValue(text, 'till_fiscal_ofd_connected{device="fiscal"}')).toBe(0);
    // The POS program dies every 20 s while crash-looping; make each tick due so the test need not
    // wait. (The fleet's own 1 s loop may also take the first crash: 3 or 4 restarts.)
    for (let i = 0; i < 3; i++) {
      (running.fleet.tills.get(till) as unknown as { model: { nextCrashAt: number } }).model.nextCrashAt = 0;
      await running.fleet.tick();
      await running.fleet.tills.get(till)?.collectNow();
    }
    const restarts = seriesValue(await scrape(address(till)), 'till_process_restarts_total{process="pos"}');
    expect(restarts).toBeGreaterThanOrEqual(3);

    // The neighbour in the same store is untouched.
    const other = await scrape(address('s2-t2'));
    expect(seriesValue(other, 'till_fiscal_cover_open{device="fiscal"}')).toBe(0);
    expect(seriesValue(other, 'till_device_present{device="scanner",kind="scanner"}')).toBe(1);

    for (const fault of faults)
      expect((await fetch(`${api}/tills/${till}/faults/${fault}`, { method: 'DELETE' })).status).toBe(204);
    await collectAll();
    const healed = await scrape(address(till));
    expect(seriesValue(healed, 'till_fiscal_cover_open{device="fiscal"}')).toBe(0);
    expect(seriesValue(healed, 'till_marking_status{device="marking",status="ready"}')).toBe(1);
    expect(seriesValue(healed, 'till_fiscal_ofd_connected{device="fiscal"}')).toBe(1);
    expect(
      Math.abs(seriesValue(healed, 'till_fiscal_clock_offset_seconds{device="fiscal"}') as number),
    ).toBeLessThan(5);
    const fnHealed = seriesValue(
      healed,
      'till_fiscal_fn_expiry_timestamp_seconds{device="fiscal"}',
    ) as number;
    expect((fnHealed - Date.now() / 1000) / 86400).toBeGreaterThan(60);
  });

  it('registrar_down makes the exporter report the registrar down, on ATOL too', async () => {
    expect((await post('/tills/s1-t2/faults', { fault: 'registrar_down' })).status).toBe(201);
    await collectAll();
    expect(seriesValue(await scrape(address('s1-t2')), 'till_device_up{device="fiscal",kind="fiscal"}')).toBe(
      0,
    );
    expect(seriesValue(await scrape(address('s1-t1')), 'till_device_up{device="fiscal",kind="fiscal"}')).toBe(
      1,
    );
    await fetch(`${api}/tills/s1-t2/faults/registrar_down`, { method: 'DELETE' });
    await collectAll();
    expect(seriesValue(await scrape(address('s1-t2')), 'till_device_up{device="fiscal",kind="fiscal"}')).toBe(
      1,
    );
  });

  it("uplink_down makes every till of the store refuse scrapes, and only that store's", async () => {
    const res = await post('/stores/s1/faults', { fault: 'uplink_down' });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ store: 's1', fault: 'uplink_down' });
    for (const till of ['s1-t1', 's1-t2']) {
      const err = await fetch(`http://${address(till)}/metrics`).then(
        () => null,
        (e: Error & { cause?: { code?: string } }) => e.cause?.code,
      );
      expect(err).toBe('ECONNREFUSED');
    }
    await scrape(address('s2-t1'));
    const view = (await (await fetch(`${api}/tills/s1-t1`)).json()) as { faults: string[] };
    expect(view.faults).toContain('uplink_down');

    expect((await fetch(`${api}/stores/s1/faults/uplink_down`, { method: 'DELETE' })).status).toBe(204);
    for (const till of ['s1-t1', 's1-t2']) await scrape(address(till));
  });

  it('a restart of the УТМ service clears a hung УТМ and nothing else; the marking module restart its sync error', async () => {
    const till = 's2-t1'; // with a UTM and a marking module
    for (const f of ['utm_hung', 'utm_cert_expiring', 'marking_not_ready'])
      expect((await post(`/tills/${till}/faults`, { fault: f })).status).toBe(201);
    await collectAll();
    expect(seriesValue(await scrape(address(till)), 'till_device_up{device="utm",kind="utm"}')).toBe(0);

    const utm = await post(`/tills/${till}/services/utm/restart`, {});
    expect(utm.status).toBe(200);
    expect(await utm.json()).toEqual({ till, service: 'utm', cleared: ['utm_hung'] });
    await collectAll();
    const text = await scrape(address(till));
    expect(seriesValue(text, 'till_device_up{device="utm",kind="utm"}')).toBe(1);
    expect(seriesValue(text, 'till_marking_status{device="marking",status="ready"}')).toBe(0);
    const view = (await (await fetch(`${api}/tills/${till}`)).json()) as { faults: string[] };
    expect(view.faults.sort()).toEqual(['marking_not_ready', 'utm_cert_expiring']);

    const marking = await post(`/tills/${till}/services/marking/restart`, {});
    expect(await marking.json()).toEqual({ till, service: 'marking', cleared: ['marking_not_ready'] });
    await collectAll();
    expect(
      seriesValue(await scrape(address(till)), 'till_marking_status{device="marking",status="ready"}'),
    ).toBe(1);
    // A restart of a healthy service changes nothing.
    expect(await (await post(`/tills/${till}/services/utm/restart`, {})).json()).toMatchObject({
      cleared: [],
    });
    await fetch(`${api}/tills/${till}/faults/utm_cert_expiring`, { method: 'DELETE' });
  });

  it('answers unknown tills, stores and faults with an error naming them', async () => {
    const cases: Array<[Promise<Response>, number, string]> = [
      [post('/tills/nope/faults', { fault: 'paper_out' }), 404, 'unknown till "nope"'],
      [post('/tills/s1-t1/faults', { fault: 'on_fire' }), 400, 'unknown till fault "on_fire"'],
      [post('/tills/s1-t1/faults', {}), 400, 'fault: required'],
      [post('/tills/s1-t2/faults', { fault: 'utm_cert_expiring' }), 400, 'till s1-t2 has no EGAIS UTM'],
      [fetch(`${api}/tills/s1-t1/faults/on_fire`, { method: 'DELETE' }), 400, 'unknown till fault "on_fire"'],
      [post('/stores/s9/faults', { fault: 'uplink_down' }), 404, 'unknown store "s9"'],
      [post('/tills/s1-t1/services/pos/restart', {}), 400, 'unknown service "pos" (known: utm, marking)'],
      [post('/tills/s1-t2/services/utm/restart', {}), 400, 'restart utm: till s1-t2 has no EGAIS UTM'],
      [post('/stores/s1/faults', { fault: 'paper_out' }), 400, 'unknown store fault "paper_out"'],
    ];
    for (const [p, status, message] of cases) {
      const res = await p;
      expect(res.status).toBe(status);
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message).toContain(message);
    }
  });
});
