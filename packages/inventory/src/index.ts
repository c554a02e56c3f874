// @tillwatch/inventory: the fleet inventory model, its validation and loading, and the demo fleet.
export {
  DEVICE_KINDS,
  InventoryError,
  formatPath,
  inventorySchema,
  iterateStores,
  storeFacts,
  storeCalendars,
  iterateTills,
  loadInventory,
  parseInventory,
  tillLabels,
  validateInventory,
} from './inventory.js';
export type {
  Chain,
  Device,
  Inventory,
  InventoryInput,
  Region,
  Store,
  StoreServer,
  Till,
  StoreFacts,
  TillEntry,
} from './inventory.js';
export { DEMO_DEFAULTS, generateDemoInventory, renderInventory } from './demo.js';
export type { DemoOptions } from './demo.js';
export { StoreOpenRenderer, WEEKDAYS, isOpenAt, localTime, resolveCalendar } from './calendar.js';
export type { CalendarStore, Hours, LocalTime, OpenRange, StoreCalendar, Weekday } from './calendar.js';
