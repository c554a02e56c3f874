// How much of a disk is files the till's own cleanup deletes: the POS's temporary files, rotated logs, the
// exchange folder's processed archives. The disk forecasts do not count the growth of these bytes as a fill
// (rules/system.yml, TillDiskSpaceFillingUp): a disk filling with files a nightly or low-space cleanup removes
// is not going to stop the till, while the same fall in bytes nothing removes (a runaway log, a growing
// database) is. Only the folders the config names are counted; a till with none configured has no such series
// and the forecasts read its free space alone, as before.
//
// The walk is written here rather than taken from a folder-size package (get-folder-size, fast-folder-size):
// those walk to the end, while a folder whose cleanup broke is exactly the one with millions of files. This
// walk holds one directory handle at a time, stops at MAX_ENTRIES or at the collector's timeout (reporting what
// it counted, and that it stopped), follows no symbolic link below the folder and stays on its filesystem.
import {
  lstat as lstatCb,
  opendir as opendirCb,
  realpath as realpathCb,
  stat as statCb,
  type Dir,
} from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { registerCollector, type CollectContext } from '../collector.js';
import type { SystemInfoSource } from '../host.js';
import { systeminformationSource } from './system.js';

const lstat = promisify(lstatCb);
const stat = promisify(statCb);
const realpath = promisify(realpathCb);
const opendir = promisify(opendirCb) as (path: string) => Promise<Dir>;

const folderSchema = z.strictObject({
  /** The `name` label: which folder (pos_temp, rotated_logs). */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected letters, digits, "_", "." or "-"' }),
  /** The folder; relative paths are taken from the config file's folder. */
  path: z.string().min(1),
});

const schema = z
  .array(folderSchema)
  .default([])
  .superRefine((folders, ctx) => {
    const seen = new Set<string>();
    folders.forEach((f, i) => {
      if (seen.has(f.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${f.name}" is named twice` });
      seen.add(f.name);
      // A folder inside another would be counted twice, and the forecasts would take its growth twice over.
      const outer = folders.find(
        (o, j) => j !== i && inside(f.path, o.path) && (j < i || !inside(o.path, f.path)),
      );
      if (outer)
        ctx.addIssue({
          code: 'custom',
          path: [i, 'path'],
          message: `inside "${outer.name}" (${outer.path}): list one of them`,
        });
    });
  });

/** Whether `path` is `folder` or below it (both as written; relative ones against the same folder). */
function inside(path: string, folder: string): boolean {
  const rel = relative(resolve('/', folder), resolve('/', path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Entries (files and folders) one folder's walk reads before it stops and reports what it counted. */
export const MAX_ENTRIES = 200_000;

export interface FolderSize {
  /** Undefined when the folder could not be read at all (missing, not a folder, no permission). */
  bytes: number | undefined;
  /** False when the walk could not open the folder, timed out or stopped at MAX_ENTRIES. */
  complete: boolean;
  /** Why it is not complete. */
  problem?: string;
}

/**
 * Bytes of the regular files under `root` on root's filesystem: blocks allocated where the OS says (a sparse
 * file takes what it holds), else the file's size. `root` itself may be a link to a folder; below it, sub-folders
 * on another filesystem and symbolic links are not counted, and a file that vanishes mid-walk (the cleanup
 * running) is skipped.
 */
export async function folderSize(
  root: string,
  signal?: AbortSignal,
  maxEntries = MAX_ENTRIES,
): Promise<FolderSize> {
  let rootDev: number;
  try {
    const st = await stat(root);
    if (!st.isDirectory()) return { bytes: undefined, complete: false, problem: 'not a folder' };
    rootDev = st.dev;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return {
      bytes: undefined,
      complete: false,
      problem: e.code === 'ENOENT' ? 'no such folder' : (e.code ?? e.message),
    };
  }
  let bytes = 0;
  let entries = 0;
  let unreadable = 0;
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let handle: Dir;
    try {
      handle = await opendir(dir);
    } catch (err) {
      // Removed since it was listed (the cleanup at work) is not a gap; a folder the exporter may not read is.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') unreadable++;
      continue;
    }
    try {
      for await (const e of handle) {
        if (signal?.aborted) return { bytes, complete: false, problem: 'timed out' };
        if (++entries > maxEntries) return { bytes, complete: false, problem: `over ${maxEntries} entries` };
        if (!e.isFile() && !e.isDirectory()) continue;
        const path = join(dir, e.name);
        let st;
        try {
          st = await lstat(path);
        } catch {
          continue;
        }
        if (st.dev !== rootDev) continue;
        if (st.isDirectory()) pending.push(path);
        else if (st.isFile()) bytes += st.blocks !== undefined && st.blocks > 0 ? st.blocks * 512 : st.size;
      }
    } catch {
      // a folder removed while it was read: what was counted stays
    }
  }
  if (unreadable > 0)
    return { bytes, complete: false, problem: `${unreadable} sub-folder(s) could not be read` };
  return { bytes, complete: true };
}

/** The mount point holding `path`: the longest one that is a prefix of it (case-blind on Windows). */
export function mountpointOf(path: string, mounts: string[], platform: NodeJS.Platform): string | undefined {
  const norm = (p: string) => (platform === 'win32' ? p.replace(/\//g, '\\').toLowerCase() : p);
  const sep = platform === 'win32' ? '\\' : '/';
  const p = norm(path);
  let best: string | undefined;
  for (const m of mounts) {
    const n = norm(m).replace(/[\\/]+$/, '');
    const inside = n === '' ? p.startsWith(sep) : p === n || p.startsWith(n + sep);
    if (inside && (best === undefined || n.length > norm(best).replace(/[\\/]+$/, '').length)) best = m;
  }
  return best;
}

registerCollector({
  name: 'disposable',
  configKey: 'disposable',
  schema,
  defaultEnabled: (folders) => folders.length > 0,
  // Folder sizes change over hours, and a walk costs a syscall per file: every 5 minutes is plenty for a
  // forecast that looks 3 hours back.
  defaultIntervalSeconds: 300,
  defaultTimeoutSeconds: 60,
  create(folders, env) {
    const source: SystemInfoSource = env.systemInfo ?? systeminformationSource();
    const targets = folders.map((f) => ({
      name: f.name,
      path: isAbsolute(f.path) ? f.path : resolve(env.configDir, f.path),
      /** The problem last logged, so a missing folder is reported once, not every run. */
      reported: undefined as string | undefined,
    }));
    return {
      devices: [],
      async collect(ctx: CollectContext) {
        const mounts = (await source.filesystems()).map((f) => f.mountpoint);
        const bytes = [];
        const complete = [];
        for (const t of targets) {
          const size = await folderSize(t.path, ctx.signal);
          // A folder reached through a link is on the filesystem of where the link leads.
          const real = await realpath(t.path).catch(() => t.path);
          const mountpoint = mountpointOf(real, mounts, env.platform);
          const problem = size.problem ?? (mountpoint === undefined ? 'on no mounted filesystem' : undefined);
          if (problem !== t.reported) {
            const fields = { folder: t.name, path: t.path };
            if (problem) ctx.logger.warn(fields, `disposable folder not fully counted: ${problem}`);
            else ctx.logger.info(fields, 'disposable folder counted again');
            t.reported = problem;
          }
          complete.push({
            labels: { name: t.name },
            value: size.complete && mountpoint !== undefined ? 1 : 0,
          });
          // A folder that cannot be read has no figure (not 0); one counted in part reports what it counted,
          // which can only make the forecasts count less as free.
          if (mountpoint !== undefined && size.bytes !== undefined)
            bytes.push({ labels: { mountpoint, name: t.name }, value: size.bytes });
        }
        return {
          families: [
            {
              name: 'till_disposable_bytes',
              help: "Bytes of the files under a folder the till's cleanup deletes (config disposable), on the filesystem mounted at mountpoint.",
              type: 'gauge' as const,
              samples: bytes,
            },
            {
              name: 'till_disposable_scan_complete',
              help: '1 when the last walk of the folder counted every file; 0 when it could not be read, timed out or stopped at its entry limit.',
              type: 'gauge' as const,
              samples: complete,
            },
          ].filter((f) => f.samples.length > 0),
        };
      },
    };
  },
});
