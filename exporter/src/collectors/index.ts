// The import list of collectors: each module registers itself with registerCollector() on import.
// Adding a collector adds one line here (see src/collector.ts).
import './system.js';
import './clock.js';
import './probe.js';
import './process.js';
import './log.js';
import './disposable.js';
import './peripheral.js';
import './printer.js';
import './fiscal.js';
import './utm.js';
import './marking.js';
import './software.js';
