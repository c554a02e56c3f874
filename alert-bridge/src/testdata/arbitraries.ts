// The generators of the bridge's property suites (properties*.test.ts; test-only, nothing else imports
// this file): text of any code points, lone surrogates, NUL, HTML specials and the ticket key's
// separators, label sets with Object.prototype's names. Importing it fixes fast-check's seed and bound,
// so every suite's run is repeatable and short; a failure prints the seed and the shrunk counterexample.
import fc from 'fast-check';
import { storable } from '../alertmanager.js';
import { PLACE_LABELS } from '../identity.js';

export const SEED = 20261206;
fc.configureGlobal({ seed: SEED, numRuns: 200 });

/** One UTF-16 unit or code point of the kinds that broke things before (issue 23) or could. */
export const nasty = fc.constantFrom(
  '\u0000',
  '\uD800', // lone high surrogate
  '\uDFFF', // lone low surrogate
  '\u{1F9FE}', // astral (🧾), a surrogate pair in UTF-16
  '\u{10FFFF}',
  '|',
  '=',
  '%',
  '%7C',
  '<',
  '>',
  '&',
  '&amp;',
  '"',
  "'",
  '\r',
  '\n',
  '\u2028',
  '{{',
  '}}',
  '{%',
  '__proto__',
  'constructor',
  'ё',
  'Ш',
);
export const char = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: nasty },
);
/** Text of any code points, lone surrogates included (what a sender can put in JSON). */
export const anyText = (maxLength = 40) => fc.string({ unit: char, maxLength });
/** Well-formed text (what the bridge stores: see `storable`), for the renderers. */
export const wellFormed = (maxLength = 40) => anyText(maxLength).map(storable);

export const REAL_LABELS = ['alertname', 'incident_class', 'team', 'severity', 'instance', 'job', ...PLACE_LABELS];
// Names of Object.prototype too: a plain object keyed by them once lost the label or threw (issue 23).
export const labelName = fc.oneof(
  fc.constantFrom(...REAL_LABELS, '__proto__', 'constructor', 'toString'),
  anyText(12),
);
export const labelValue = fc.oneof(
  { weight: 150, arbitrary: anyText(30) },
  // Around the default webhook.max_label_length (1024): stored up to it, 4xx above it.
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 1100 }).map((n) => 'v'.repeat(n)) },
);
export const labelSet = fc.dictionary(labelName, labelValue, { maxKeys: 40 });
