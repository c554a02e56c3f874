// Test helpers: small inventories on free loopback ports for fleet tests.
import { freePorts } from '@tillwatch/testkit';
import { validateInventory, type Inventory } from '@tillwatch/inventory';

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
