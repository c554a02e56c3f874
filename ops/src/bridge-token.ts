// The bridge's API token for the commands that read from it (backtest, forecast, report sla). A token on the
// command line (--bridge-token) is visible to every local user in `ps` and stays in shell history, so it can
// also come from a file (--bridge-token-file, as Prometheus' `credentials_file`) or from the environment
// (TILLWATCH_BRIDGE_TOKEN, as a service's secret is usually handed over). The flag is kept for the scripts
// that pass it.
import { readFileSync } from 'node:fs';
import { UsageError } from '@tillwatch/config';

export const BRIDGE_TOKEN_ENV = 'TILLWATCH_BRIDGE_TOKEN';

/** How the token options read in a command's usage. */
export const BRIDGE_TOKEN_USAGE = '[--bridge-token-file FILE | --bridge-token TOKEN]';

/** The usage's line on them, the same in the commands that read the bridge's whole API (backtest, forecast). */
export const BRIDGE_TOKEN_HELP = `  --bridge-token-file: a file holding the bridge's API token (else $${BRIDGE_TOKEN_ENV}; --bridge-token
      shows the token to every local user in ps)`;

/** The options to give parseCli. */
export const BRIDGE_TOKEN_OPTIONS = {
  'bridge-token': { type: 'string' },
  'bridge-token-file': { type: 'string' },
} as const;

/**
 * The token: from --bridge-token-file, else --bridge-token, else $TILLWATCH_BRIDGE_TOKEN; undefined when none
 * (a bridge without `api.tokens` answers without one). A file that cannot be read, is empty or holds more than
 * one word is an error that names it: a wrong path must not turn into an anonymous request answered 401.
 */
export function bridgeToken(
  values: { 'bridge-token'?: string; 'bridge-token-file'?: string },
  usage: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const flag = values['bridge-token'];
  const file = values['bridge-token-file'];
  if (flag !== undefined && file !== undefined)
    throw new UsageError('--bridge-token and --bridge-token-file: give one of them, not both', usage);
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new Error(
        `--bridge-token-file ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'a directory, not a file' : e.message}`,
      );
    }
    const token = text.trim();
    if (!token) throw new Error(`--bridge-token-file ${file}: the file is empty`);
    if (/\s/.test(token))
      throw new Error(`--bridge-token-file ${file}: expected one token, found several words or lines`);
    return token;
  }
  if (flag !== undefined) return flag;
  return env[BRIDGE_TOKEN_ENV]?.trim() || undefined;
}
