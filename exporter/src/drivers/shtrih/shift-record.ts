// When the open shift was opened, kept in a small file per registrar so that an exporter restart in the
// middle of a shift still knows its age. Shtrih registrars do not report the opening time as such: it is
// found once per shift from the FN archive (FF0A, the shift's opening report) or from a closed → open
// transition the exporter saw itself (docs/protocols/shtrih-m.md, "Shift age").
import { mkdir, readFile, rename, writeFile } from '../../fs-async.js';
import { dirname } from 'node:path';
import { z } from 'zod';

const recordSchema = z.strictObject({
  fnSerial: z.string(),
  shiftNumber: z.number().int().min(0),
  /** Unix seconds. */
  openedAt: z.number(),
  /** `document`: the opening report's own time; `transition`: the last poll that still saw the shift closed. */
  source: z.enum(['document', 'transition']),
});

export type ShiftRecord = z.infer<typeof recordSchema>;

export interface ShiftRecordStore {
  load(): Promise<ShiftRecord | undefined>;
  save(record: ShiftRecord): Promise<void>;
}

/** A store in one JSON file; a missing or unreadable file is an empty store, never a failed poll. */
export class FileShiftRecordStore implements ShiftRecordStore {
  private cached: ShiftRecord | undefined;
  private loaded = false;

  constructor(
    readonly path: string,
    private readonly onError: (err: Error, what: string) => void = () => undefined,
  ) {}

  async load(): Promise<ShiftRecord | undefined> {
    if (this.loaded) return this.cached;
    this.loaded = true;
    try {
      const parsed = recordSchema.safeParse(JSON.parse(await readFile(this.path, 'utf8')));
      if (parsed.success) this.cached = parsed.data;
      else this.onError(new Error(`${this.path}: ${parsed.error.issues[0]?.message ?? 'invalid'}`), 'read');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(err as Error, 'read');
    }
    return this.cached;
  }

  async save(record: ShiftRecord): Promise<void> {
    this.cached = record;
    this.loaded = true;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      // Written beside and renamed, so a power cut mid-write leaves the old record rather than half a file.
      const tmp = `${this.path}.tmp`;
      await writeFile(tmp, `${JSON.stringify(record)}\n`);
      await rename(tmp, this.path);
    } catch (err) {
      this.onError(err as Error, 'write');
    }
  }
}

/** Keeps the record in memory only (no state file configured). */
export class MemoryShiftRecordStore implements ShiftRecordStore {
  private record: ShiftRecord | undefined;
  async load(): Promise<ShiftRecord | undefined> {
    return this.record;
  }
  async save(record: ShiftRecord): Promise<void> {
    this.record = record;
  }
}
