// The command-line conventions every TillWatch CLI shares: `--help`/`-h` and `--version` answer on
// stdout with exit 0, a usage error names its cause (with a "did you mean" for a likely typo) and the
// command's usage on stderr with exit 2, and the version line reads like node_exporter's.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { closest, distance } from 'fastest-levenshtein';

/** A mistake in the command line: the CLI prints it with the command's usage and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  /** The usage of the command the mistake is in, when the thrower knows it better than the catcher. */
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** Exit status of a usage error, as getopt-based tools and node_exporter use. */
export const USAGE_EXIT = 2;

/**
 * The candidate `input` most likely stands for, or undefined when none is close: at most two edits
 * (a dropped, doubled or swapped letter, by Levenshtein distance), and fewer edits than `input` has
 * letters, since further off a guess misleads more than it helps.
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0 || input === '') return undefined;
  const guess = closest(input, candidates as string[]);
  const d = distance(input, guess);
  return d <= 2 && d < input.length ? guess : undefined;
}

/** `unknown command "fleat" (did you mean "fleet"?)`. */
export function unknownCommand(given: string, commands: readonly string[], usage?: string): UsageError {
  const guess = suggest(given, commands);
  return new UsageError(
    `unknown command "${given}"${guess === undefined ? '' : ` (did you mean "${guess}"?)`}`,
    usage,
  );
}

type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };
export type CliOptions = Record<string, OptionSpec>;

/**
 * The flag of `argv` that `options` does not know, as `unknown option --conifg (did you mean --config?)`,
 * or undefined. node:util's parseArgs says only "Unknown option"; its tokens find the flag without
 * depending on the wording of its message.
 */
export function unknownOption(
  argv: readonly string[],
  options: CliOptions,
  noun = 'option',
): string | undefined {
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const known = Object.keys(options);
  for (const t of tokens) {
    if (t.kind !== 'option' || t.name in options) continue;
    // A short flag that is not ours: "-x"; a long one: "--name" (any "=value" is not part of the name).
    if (!t.rawName.startsWith('--')) return `unknown ${noun} ${t.rawName}`;
    const guess = suggest(t.name, known);
    return `unknown ${noun} ${t.rawName}${guess === undefined ? '' : ` (did you mean --${guess}?)`}`;
  }
  return undefined;
}

export interface ParsedCli<O extends CliOptions> {
  values: {
    [K in keyof O]?: O[K]['type'] extends 'boolean'
      ? boolean
      : O[K]['multiple'] extends true
        ? string[]
        : string;
  };
  positionals: string[];
}

/**
 * node:util's parseArgs (strict) with its errors turned into UsageErrors that carry `usage`, and an
 * unknown flag named with the closest known one.
 */
export function parseCli<O extends CliOptions>(
  argv: readonly string[],
  options: O,
  o: { usage?: string; allowPositionals?: boolean } = {},
): ParsedCli<O> {
  const unknown = unknownOption(argv, options);
  if (unknown) throw new UsageError(unknown, o.usage);
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options,
      strict: true,
      allowPositionals: o.allowPositionals ?? false,
    });
    return { values, positionals } as ParsedCli<O>;
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
      throw new UsageError(parseArgsMessage((err as Error).message), o.usage);
    throw err;
  }
}

/** parseArgs' messages, shortened: "Option '--out <value>' argument missing" and the like. */
function parseArgsMessage(message: string): string {
  // "Unexpected argument 'x'. This command does not take positional arguments" reads fine; the advice
  // appended to option errors about "--" is for the script author, not the operator.
  return message.replace(/\. To specify an option argument starting with a dash.*$/s, '').trim();
}

/** Whether argv asks for help: `--help` or `-h` anywhere before a `--`. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/** Whether argv asks for the version: `--version` anywhere before a `--`. */
export function wantsVersion(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--version') return true;
  }
  return false;
}

/**
 * The version text, as node_exporter and tillwatch-exporter print it:
 *   NAME, version 0.1.0 (revision: abc123)
 *     node version: v22.12.0
 *     platform: linux/x64
 */
export function versionText(name: string, version: string, revision = 'unknown'): string {
  return `${name}, version ${version} (revision: ${revision})\n  node version: ${process.version}\n  platform: ${process.platform}/${process.arch}\n`;
}

/**
 * The `version` of the package.json at `url` (a CLI passes `new URL('../package.json', import.meta.url)`:
 * one level above both src/ and dist/), or "unknown".
 */
export function packageVersion(url: URL): string {
  try {
    const v = (JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : 'unknown';
  } catch {
    return 'unknown';
  }
}
