// The action agent's config (actions.yml): where the bridge is, the till's credential, and the
// allowlist of what this till agrees to run. Nothing the bridge sends can widen it: the bridge names an
// action (and at most one of its declared choices); program and arguments come only from this file.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  ConfigError,
  parseWith,
  parseYaml,
  positiveDurationMs,
  readConfigFile,
  type ConfigProblem,
} from '@tillwatch/config';
import { z } from 'zod';
import { PRESETS, presetArgv, type Platform } from './catalog.js';

/** Action names, as the bridge sends them and the config declares them. */
export const ACTION_NAME = /^[a-z][a-z0-9_]{0,63}$/;
/**
 * One argument, from the config: letters, digits and `_ @ % + = : , . / -` only. No spaces, quotes,
 * `;`, `$`, backticks or newlines: nothing runs through a shell anyway (execFile, no `shell`), and the
 * pattern keeps an argument from being read as anything but one plain word by the program either.
 */
export const ARGUMENT = /^(?:[A-Za-z0-9_@%+=:,./\\-]|\{choice\}){1,200}$/;
/** A declared choice (a service, a queue name): one plain word, never `.`/`..`, no path separators. */
export const CHOICE = /^(?!\.{1,2}$)(?!-)[A-Za-z0-9_.@-]{1,64}$/;
/** A till id as the bridge knows it: `chain/store/till`. */
export const TILL_ID = /^[^\s/"\\]+\/[^\s/"\\]+\/[^\s/"\\]+$/;

const argument = z.string().regex(ARGUMENT, {
  error:
    'must be one plain word: letters, digits and _ @ % + = : , . / \\ - only, or {choice} (no spaces, quotes, ; $ or newlines)',
});
const choice = z.string().regex(CHOICE, {
  error: 'must be one plain word: letters, digits and _ . @ - only, not starting with "-", not "." or ".."',
});
const program = z.string().refine((p) => isAbsolute(p) || /^[A-Za-z]:\\/.test(p), {
  error: 'must be an absolute path (no search through PATH)',
});

const rateLimit = z.strictObject({
  max: z.number().int().min(1).max(1000),
  per: positiveDurationMs,
});

const commonAction = {
  timeout: positiveDurationMs.default(60_000),
  rate_limit: rateLimit.default({ max: 3, per: 3_600_000 }),
};

const presetAction = z.strictObject({
  preset: z.enum(Object.keys(PRESETS) as [string, ...string[]]),
  /** The service (УТМ, ЛМ ЧЗ, spooler) or print queue the preset acts on. */
  target: choice.optional(),
  ...commonAction,
});

const customAction = z.strictObject({
  program,
  args: z.array(argument).max(32).default([]),
  /** Values the bridge may pick from; `{choice}` in args is replaced by the picked one. */
  choices: z.array(choice).min(1).max(64).optional(),
  ...commonAction,
});

const schema = z.strictObject({
  enabled: z.boolean().default(true),
  dry_run: z.boolean().default(false),
  /** While this file exists the agent neither polls nor runs anything (a store technician's stop). */
  kill_switch_file: z.string().min(1).optional(),
  poll_interval: positiveDurationMs.default(30_000),
  bridge: z.strictObject({
    url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL of the bridge' }),
    till: z.string().regex(TILL_ID, { error: 'expected chain/store/till, as the bridge enrols the till' }),
    secret_file: z.string().min(1),
    timeout: positiveDurationMs.default(15_000),
  }),
  allow: z
    .record(
      z.string().regex(ACTION_NAME, { error: 'action names are a-z, 0-9 and _' }),
      z.union([presetAction, customAction], {
        error: 'expected either preset (+ target) or program (+ args)',
      }),
    )
    .default({}),
});

export interface AllowedAction {
  name: string;
  /** Each step is one execFile call: [program, ...args]; steps run in order. */
  steps: { argv: string[]; mayFail: boolean }[];
  choices: readonly string[] | undefined;
  timeoutMs: number;
  rateLimit: { max: number; perMs: number };
}

export interface AgentConfig {
  source: string;
  enabled: boolean;
  dryRun: boolean;
  killSwitchFile: string | undefined;
  pollIntervalMs: number;
  bridge: { url: string; till: string; secret: string; timeoutMs: number };
  allow: Map<string, AllowedAction>;
}

export function parseAgentConfig(
  raw: unknown,
  source: string,
  dir: string,
  platform: Platform = process.platform === 'win32' ? 'windows' : 'linux',
): AgentConfig {
  const c = parseWith(schema, raw ?? {}, source);
  const problems: ConfigProblem[] = [];
  const allow = new Map<string, AllowedAction>();
  for (const [name, a] of Object.entries(c.allow)) {
    const common = {
      name,
      timeoutMs: a.timeout,
      rateLimit: { max: a.rate_limit.max, perMs: a.rate_limit.per },
    };
    if ('preset' in a) {
      const r = presetArgv(a.preset, a.target, platform);
      if (typeof r === 'string') problems.push({ key: `allow.${name}`, message: r });
      else allow.set(name, { ...common, steps: r, choices: undefined });
    } else {
      const uses = a.args.some((x) => x.includes('{choice}'));
      if (uses !== (a.choices !== undefined))
        problems.push({
          key: `allow.${name}.choices`,
          message: uses
            ? 'args use {choice}: list the choices'
            : 'choices are listed but no argument uses {choice}',
        });
      allow.set(name, {
        ...common,
        steps: [{ argv: [a.program, ...a.args], mayFail: false }],
        choices: a.choices,
      });
    }
  }
  const secretPath = resolve(dir, c.bridge.secret_file);
  let secret = '';
  try {
    secret = readFileSync(secretPath, 'utf8').trim();
    if (secret.length < 32)
      problems.push({
        key: 'bridge.secret_file',
        message: `${secretPath}: the secret must be at least 32 characters`,
      });
  } catch (e) {
    problems.push({
      key: 'bridge.secret_file',
      message: `cannot read ${secretPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    });
  }
  if (problems.length) throw new ConfigError(source, problems);
  return {
    source,
    enabled: c.enabled,
    dryRun: c.dry_run,
    killSwitchFile: c.kill_switch_file === undefined ? undefined : resolve(dir, c.kill_switch_file),
    pollIntervalMs: c.poll_interval,
    bridge: {
      url: c.bridge.url.replace(/\/+$/, ''),
      till: c.bridge.till,
      secret,
      timeoutMs: c.bridge.timeout,
    },
    allow,
  };
}

export function loadAgentConfig(file: string, platform?: Platform): AgentConfig {
  return parseAgentConfig(parseYaml(readConfigFile(file), file), file, dirname(resolve(file)), platform);
}
