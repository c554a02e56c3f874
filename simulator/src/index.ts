// Public API of the simulator: device emulators, their control API, and the devices runner.
export { Emulator, type EmulatorKind } from './emulators/emulator.js';
export { FAULT_TYPES, faultSchema, FaultSet, prng, type Fault, type FaultType } from './emulators/faults.js';
export { listen, closeServer } from './serve.js';
export {
  defaultFiscalState,
  fiscalStateSchema,
  openShift,
  closeShift,
  sell,
  type FiscalState,
} from './emulators/fiscal-state.js';
export { ShtrihEmulator, type ShtrihEmulatorOptions } from './emulators/shtrih-emulator.js';
export {
  AtolEmulator,
  ATOL_SHAPES,
  atolStateSchema,
  type AtolEmulatorOptions,
  type AtolState,
} from './emulators/atol-emulator.js';
export {
  UtmEmulator,
  utmStateSchema,
  type UtmEmulatorOptions,
  type UtmState,
} from './emulators/utm-emulator.js';
export {
  MarkingEmulator,
  markingStateSchema,
  type MarkingEmulatorOptions,
  type MarkingState,
} from './emulators/marking-emulator.js';
export { HttpEmulator, type HttpEmulatorOptions } from './emulators/http-emulator.js';
export { createControlApp, startControlApi, DeviceRegistry, type ControlApi } from './control-api.js';
export {
  startDevices,
  loadDevicesConfig,
  devicesConfigSchema,
  type DevicesConfig,
  type RunningDevices,
} from './devices.js';
export * from './fleet/index.js';
