// Data files more than one package's tests read.
import { fileURLToPath } from 'node:url';

/**
 * An inventory with every optional key in use: two chains, extra store and till labels, devices of
 * several kinds, a metrics path. The inventory's own tests, file_sd, the agents and the CLI read it.
 */
export const FULL_INVENTORY = fileURLToPath(new URL('fixtures/inventory-full.yml', import.meta.url));
