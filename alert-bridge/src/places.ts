import { loadInventory, storeFacts, type StoreFacts } from '@tillwatch/inventory';

/**
 * What the bridge knows of places from the fleet inventory (optional): a store's name, its tills and its
 * time zone. Without an inventory, or for a store it does not list, times are shown in the configured
 * zone and a store ticket lists the tills its alerts named.
 */
export class Places {
  private constructor(
    private readonly stores: Map<string, StoreFacts>,
    private readonly defaultZone: string,
  ) {}

  static load(file: string | undefined, defaultZone: string): Places {
    return new Places(file ? storeFacts(loadInventory(file)) : new Map(), defaultZone);
  }

  static none(defaultZone: string): Places {
    return new Places(new Map(), defaultZone);
  }

  store(id: string | null): StoreFacts | undefined {
    return id === null ? undefined : this.stores.get(id);
  }

  zoneOf(t: { store: string | null }): string {
    return this.store(t.store)?.timezone ?? this.defaultZone;
  }
}
