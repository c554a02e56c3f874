// The one error type of every TillWatch config file. Its message is what a store technician or an
// operator reads on a console, so every line names the file and, when there is one, the key path:
//   till.yml: probes[0].target: expected host:port
//   till.yml:4:1: invalid YAML: Flow sequence in block collection must be sufficiently indented
// file:line:column is the form editors and terminals turn into a link.

/** One thing wrong with a config file. */
export interface ConfigProblem {
  /** Key path as the reader finds it in the file (`probes[0].target`); absent for the file as a whole. */
  key?: string;
  message: string;
  /** 1-based position in the file, when the problem has one (YAML syntax errors). */
  line?: number;
  column?: number;
}

/** Every problem of one file, one per line of the message, each `FILE[:LINE:COL]: [KEY: ]MESSAGE`. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];
  /** The first problem's key, line and column: what a caller that shows only one needs. */
  readonly key: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(
    readonly file: string,
    problems: ConfigProblem | readonly ConfigProblem[],
  ) {
    const list = Array.isArray(problems)
      ? (problems as readonly ConfigProblem[])
      : [problems as ConfigProblem];
    if (list.length === 0) throw new TypeError('ConfigError needs at least one problem');
    super(list.map((p) => formatProblem(file, p)).join('\n'));
    this.problems = list;
    this.key = list[0]?.key;
    this.line = list[0]?.line;
    this.column = list[0]?.column;
  }
}

export function formatProblem(file: string, p: ConfigProblem): string {
  const where = p.line === undefined ? '' : `:${p.line}:${p.column ?? 1}`;
  return `${file}${where}: ${p.key === undefined ? '' : `${p.key}: `}${p.message}`;
}

/** `chains[0].regions[1].id`: the way a reader finds the key in the YAML. */
export function formatKeyPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? TOP_LEVEL : out;
}

/** The key path of a problem with the file's top-level mapping itself. */
export const TOP_LEVEL = '(top level)';
