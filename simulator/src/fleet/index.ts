// The fleet simulator: many virtual tills in one process, each with real exporter collectors
// reading its own device emulators.
export { Fleet, FleetError, tillSpecs, type FleetOptions, type FleetTillView } from './fleet.js';
export { SimTill, type TillSpec } from './sim-till.js';
export { createFleetControlApp, startFleetControl, type FleetControl } from './control-api.js';
export {
  loadScenario,
  parseScenario,
  parseScenarioText,
  scenarioSchema,
  type Scenario,
  type ScenarioEvent,
} from './scenario.js';
export { EXPECTED_ALERTS, STORE_FAULTS, TILL_FAULTS, type StoreFault, type TillFault } from './faults.js';
export { runFleet, type RunningFleet, type RunFleetOptions } from './run.js';
