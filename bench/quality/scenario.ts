// The parameters of a synthetic fleet for the prediction-quality runs: which faults, how fast they develop,
// and the noise of a real fleet. Two ship with the repository: `tuning` (the shapes the thresholds were chosen
// for) and `evaluation` (a harder fleet the rules were not tuned on); any other file can be given, so the
// evaluation can be repeated on scenarios that are not here. Errors name the file and the key.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadYamlFile, parseWith, readConfigFile } from '@tillwatch/config';

/** [min, max]: a value drawn uniformly for each fault or noise instance. */
const range = z
  .tuple([z.number().nonnegative(), z.number().nonnegative()])
  .refine(([a, b]) => a <= b, { message: 'expected [min, max] with min <= max' });
const share = z.number().min(0).max(1);
const weight = z.number().nonnegative().default(0);

const faults = z
  .strictObject({
    /** The FN expires within the history (dates: always a usable precursor). */
    fn_expiry: z.strictObject({ weight }).prefault({}),
    /** A UTM certificate expires within the history. */
    certificate_expiry: z.strictObject({ weight }).prefault({}),
    /** The OFD link is stuck for 30 days, when the FN blocks sales. */
    ofd_stuck: z.strictObject({ weight }).prefault({}),
    /** A runaway writer fills the disk to 0 over `hours`. */
    disk_fill: z.strictObject({ weight, hours: range.default([48, 48]) }).prefault({}),
    /** A till switched off at night loses `stepGb` every evening at 21:00 until the disk is full. */
    disk_steps: z.strictObject({ weight, stepGb: range.default([0.6, 1.2]) }).prefault({}),
    /** The disk is full within one sample (a dump): no precursor. */
    disk_sudden: z.strictObject({ weight }).prefault({}),
    /** The registrar's clock drifts `secondsPerHour` until it is 300 s off (the FN rejects documents). */
    registrar_clock_drift: z.strictObject({ weight, secondsPerHour: range.default([3, 3]) }).prefault({}),
    /** The registrar's clock jumps 400 s at once (clock battery, power loss): no precursor. */
    registrar_clock_jump: z.strictObject({ weight }).prefault({}),
    /** A Windows till's weekly clock sync stops; it drifts `secondsPerDay` until it is 300 s off. */
    host_clock_unsynced: z.strictObject({ weight, secondsPerDay: range.default([10, 30]) }).prefault({}),
    /** Nobody closes the shift one day: the registrar refuses sales at 24 h. */
    shift_forgotten: z.strictObject({ weight }).prefault({}),
    /** The registrar stops answering for three hours: no precursor. */
    registrar_down: z.strictObject({ weight }).prefault({}),
  })
  .prefault({});

const noise = z
  .strictObject({
    /** Stores switched off from 22:00 to 08:00 (no samples at all then). */
    offAtNight: share.default(0),
    /** Stores open around the clock that close the shift once a day just before 24 h. */
    store24h: share.default(0),
    /** Tills with a 32 GB disk (the others have 120 GB). */
    smallDisk: share.default(0),
    /** The OFD link down for `hours`, recovering by itself (a precursor that clears). */
    ofdOutage: z.strictObject({ share: share.default(0), hours: range.default([12, 40]) }).prefault({}),
    /** `percent` of the disk written over `hours` and deleted at the next midnight. */
    diskBurst: z
      .strictObject({
        share: share.default(0),
        percent: range.default([15, 15]),
        hours: range.default([6, 6]),
      })
      .prefault({}),
    /** A rollout's download of `gb` in 20 minutes, kept `keepHours`, once or twice in the history. */
    download: z
      .strictObject({ share: share.default(0), gb: range.default([2, 6]), keepHours: range.default([2, 24]) })
      .prefault({}),
    /**
     * A disk filling over `hours` that is cleaned at `cleanAtPercent` free (a precursor that clears): a share
     * `byCleanup` of them are files a cleanup job deletes at that threshold, in a folder the exporter lists
     * (`disposable`), the others are cleaned by a person.
     */
    diskFillCleaned: z
      .strictObject({
        share: share.default(0),
        hours: range.default([12, 48]),
        cleanAtPercent: range.default([5, 15]),
        byCleanup: share.default(0),
      })
      .prefault({}),
    /** Windows tills whose clock drifts `secondsPerDay` between weekly syncs. */
    windowsClock: z
      .strictObject({ share: share.default(0), secondsPerDay: range.default([3, 15]) })
      .prefault({}),
    /** One registrar clock sample `seconds` off, with this probability per sample. */
    clockSpike: z.strictObject({ perSample: share.default(0), seconds: z.number().default(90) }).prefault({}),
    /** One host clock sample 400 s off (a bad SNTP answer), with this probability per sample. */
    badSntp: z.strictObject({ perSample: share.default(0) }).prefault({}),
  })
  .prefault({});

export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  /**
   * The stores' opening hours are in the inventory: the history carries `tillwatch_store_open` (08:00-22:00, the
   * 24-hour stores always open), as the calendar component serves it, and the rules hold the alerts of closed
   * stores (rules/README.md, "Store hours"). Without it, a till switched off at night pages as unreachable.
   */
  calendars: z.boolean().default(false),
  /**
   * The exporter lists the folders the till's cleanups empty (`till_disposable_bytes`): the temp folder that
   * holds `diskBurst`'s files and the folder of `diskFillCleaned`'s cleanup job. Without it, those fills read
   * as free space falling, as they did before the exporter could tell.
   */
  disposable: z.boolean().default(false),
  description: z.string().min(1),
  tills: z.number().int().positive(),
  /**
   * The history: two days of warm-up (rules that compare with yesterday need one; measurement starts after it),
   * then the certificates' 60-day warning and its renewal, so every lead time is measured whole.
   */
  days: z.number().int().min(65),
  sampleMinutes: z.number().positive(),
  /** Share of tills with one fault, spread over the fault kinds by weight. */
  faultShare: share,
  /**
   * A fault has a usable precursor when it shows in the metrics at least this long before it becomes
   * critical (and the till reports while it does); the recall target applies to those.
   */
  usablePrecursorHours: z.number().positive(),
  faults,
  noise,
});

export type Scenario = z.output<typeof scenarioSchema>;
export type FaultKind = keyof Scenario['faults'];

export interface LoadedScenario {
  scenario: Scenario;
  file: string;
  /** First 12 hex digits of the file's SHA-256: which parameters a report was made with. */
  digest: string;
}

export const SCENARIOS_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));

/** A scenario by path, or by name from bench/quality/scenarios/. */
export function loadScenario(nameOrFile: string): LoadedScenario {
  const file = /[/\\]|\.ya?ml$/.test(nameOrFile) ? nameOrFile : `${SCENARIOS_DIR}${nameOrFile}.yml`;
  const scenario = parseWith(scenarioSchema, loadYamlFile(file), file);
  const digest = createHash('sha256').update(readConfigFile(file)).digest('hex').slice(0, 12);
  return { scenario, file, digest };
}
