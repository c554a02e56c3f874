// Software versions as info series, so the fleet sees which tills run which POS program, OS, kernel and
// exporter, and which are behind the chain's declared minimum (rules/software.yml). Versions come from
// files only (a version file, or a line of an ini/log the POS program writes): nothing is executed.
// Registrar firmware and model, UTM and marking module versions come with their own collectors' info
// series (till_fiscal_info, till_utm_info, till_marking_info).
import { readFile } from '../fs-async.js';
import os from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { registerCollector, type MetricFamily, type Sample } from '../collector.js';
import { VERSION } from '../version.js';
import { regexString } from './schemas.js';

const componentSchema = z.strictObject({
  /** The `component` label: pos, marking_agent, pinpad_driver, ... */
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/, { error: 'expected lower-case letters, digits and "_", e.g. pos' }),
  /** A file holding the version (relative to the config file). */
  file: z.string().min(1),
  /**
   * Regular expression applied to the file; its first group is the version. Default: the first thing that
   * looks like a version (digits and dots).
   */
  pattern: regexString.optional(),
});

const schema = z
  .strictObject({
    /** Report the OS, the kernel and the exporter itself (default true). */
    builtin: z.boolean().default(true),
    /** Where the Linux distribution and its release are read from. */
    os_release_file: z.string().min(1).default('/etc/os-release'),
    components: z.array(componentSchema).default([]),
  })
  .default({ builtin: true, os_release_file: '/etc/os-release', components: [] })
  .superRefine((c, ctx) => {
    const seen = new Set(['os', 'kernel', 'exporter']);
    c.components.forEach((x, i) => {
      if (seen.has(x.name))
        ctx.addIssue({
          code: 'custom',
          path: ['components', i, 'name'],
          message: `duplicate component "${x.name}"`,
        });
      seen.add(x.name);
    });
  });

const DEFAULT_PATTERN = /(\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.-]+)?)/;

/**
 * A version as one number that orders like the version: major × 10^6 + minor × 10^3 + patch, each part
 * capped at 999. Undefined when the text has no number. A fourth part and suffixes do not count.
 */
export function versionNumber(version: string): number | undefined {
  const m = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version);
  if (!m) return undefined;
  const part = (s: string | undefined) => Math.min(999, Number(s ?? 0));
  return Number(m[1]) * 1e6 + part(m[2]) * 1e3 + part(m[3]);
}

/** The version found in `text` with `pattern` (its first group, else the whole match). */
export function extractVersion(text: string, pattern?: string): string | undefined {
  const m = (pattern ? new RegExp(pattern, 'm') : DEFAULT_PATTERN).exec(text);
  const v = (m?.[1] ?? m?.[0])?.trim();
  return v ? v.slice(0, 64) : undefined;
}

/** `ID VERSION_ID` of /etc/os-release (debian 12), or PRETTY_NAME when those are missing. */
export function osReleaseVersion(text: string): string | undefined {
  const kv = new Map(
    text
      .split('\n')
      .map((l) => /^([A-Z_]+)=(?:"(.*)"|(.*))$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] as string, (m[2] ?? m[3] ?? '').trim()]),
  );
  const id = kv.get('ID');
  const ver = kv.get('VERSION_ID');
  if (id && ver) return `${id} ${ver}`;
  return kv.get('PRETTY_NAME') || undefined;
}

registerCollector({
  name: 'software',
  configKey: 'software',
  schema,
  defaultEnabled: true,
  defaultIntervalSeconds: 300,
  defaultTimeoutSeconds: 10,
  create(config, env) {
    const win = env.platform === 'win32';
    return {
      devices: [],
      async collect(ctx) {
        const versions: Array<[string, string]> = [];
        if (config.builtin) {
          const osVersion = win
            ? `windows ${os.release()}`
            : await readFile(resolve(env.configDir, config.os_release_file), 'utf8')
                .then(osReleaseVersion)
                .catch(() => undefined);
          if (osVersion) versions.push(['os', osVersion]);
          versions.push(['kernel', os.release()]);
          versions.push(['exporter', VERSION]);
        }
        for (const c of config.components) {
          const path = resolve(env.configDir, c.file);
          try {
            const v = extractVersion(await readFile(path, 'utf8'), c.pattern);
            if (v) versions.push([c.name, v]);
            else ctx.logger.debug({ component: c.name, path }, 'no version found in the file');
          } catch (err) {
            // Not installed (or not readable): absent, not broken.
            ctx.logger.debug(
              { component: c.name, path, err: (err as Error).message },
              'version file not readable',
            );
          }
        }
        const info: Sample[] = versions.map(([component, version]) => ({
          labels: { component, version },
          value: 1,
        }));
        // The orderable number only where a minimum can be declared usefully: the configured components and
        // the exporter. The OS and kernel carry their info series only (docs/scaling.md, "Series budget").
        const numbers: Sample[] = versions.flatMap(([component, version]) => {
          if (component === 'os' || component === 'kernel') return [];
          const n = versionNumber(version);
          return n === undefined ? [] : [{ labels: { component }, value: n }];
        });
        const families: MetricFamily[] = [
          {
            name: 'till_software_version_info',
            help: 'Installed version of a software component; constant 1.',
            type: 'gauge',
            samples: info,
          },
          {
            name: 'till_software_version_number',
            help: 'The version as one number that orders like it: major*1e6 + minor*1e3 + patch.',
            type: 'gauge',
            samples: numbers,
          },
        ];
        return { families };
      },
    };
  },
});
