// Test helpers: free loopback ports and small inventories for fleet tests.
import net from 'node:net';
import { validateInventory, type Inventory } from '@tillwatch/ops';

/** Ports the OS says are free right now (listen on 0, note, close). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** `stores` stores of `tillsPerStore` tills on free ports; odd tills have no UTM. */
export async function smallInventory(stores: number, tillsPerStore: number): Promise<Inventory> {
  const ports = await freePorts(stores * tillsPerStore);
  let p = 0;
  return validateInventory({
    chains: [
      {
        id: 'test',
        regions: [
          {
            id: 'r1',
            stores: Array.from({ length: stores }, (_, s) => ({
              id: `s${s + 1}`,
              tills: Array.from({ length: tillsPerStore }, (_, t) => ({
                id: `s${s + 1}-t${t + 1}`,
                address: `127.0.0.1:${ports[p++]}`,
                devices: [
                  { name: 'fiscal', kind: 'fiscal', driver: t % 2 === 0 ? 'shtrih' : 'atol' },
                  { name: 'scanner', kind: 'scanner', usb: '0c2e:0b61' },
                  { name: 'marking', kind: 'marking' },
                  ...(t % 2 === 0 ? [{ name: 'utm', kind: 'utm' as const }] : []),
                ],
              })),
            })),
          },
        ],
      },
    ],
  });
}
