// The shipped actions: each a fixed argv per platform. The config picks a preset and names its target
// (a service or print queue, one plain word checked by CHOICE); nothing else is variable.
//
// Linux: systemd and CUPS. Windows: `net.exe stop NAME /y` then `net.exe start NAME`, rather than
// `sc.exe stop/start`: sc.exe only sends the stop control and returns at once, so its start races the
// stopping service (error 1056), while net.exe waits for each state (and /y answers the prompt about
// dependent services, with no console to ask). The stop step may fail (the service was already stopped
// or hung past its stop timeout): the start step decides the result.
//
// Fiscal actions (closing a shift, re-registration, resetting the ФН exchange) are deliberately absent:
// they change what the tax service sees and cannot be undone, so they are never automatic
// (docs/security.md, "Remote actions").

export type Platform = 'linux' | 'windows';

export interface Preset {
  what: string;
  /** Target when the config names none (only where the name is certain); undefined: required. */
  defaultTarget: Partial<Record<Platform, string>>;
  linux?: (target: string) => { argv: string[]; mayFail: boolean }[];
  windows?: (target: string) => { argv: string[]; mayFail: boolean }[];
}

const SYSTEMCTL = '/usr/bin/systemctl';
const NET = 'C:\\Windows\\System32\\net.exe';
const restartLinux = (t: string) => [{ argv: [SYSTEMCTL, 'restart', '--', t], mayFail: false }];
const restartWindows = (t: string) => [
  { argv: [NET, 'stop', t, '/y'], mayFail: true },
  { argv: [NET, 'start', t], mayFail: false },
];

export const PRESETS: Record<string, Preset> = {
  restart_utm: {
    what: 'restart the EGAIS transport module (УТМ) service',
    // The unit/service name differs between УТМ builds and installers: the config names it.
    defaultTarget: {},
    linux: restartLinux,
    windows: restartWindows,
  },
  restart_marking: {
    what: 'restart the Честный знак local module (ЛМ ЧЗ) service',
    defaultTarget: {},
    linux: restartLinux,
    windows: restartWindows,
  },
  restart_print_spooler: {
    what: 'restart the print spooler (CUPS on Linux, Spooler on Windows)',
    defaultTarget: { linux: 'cups', windows: 'Spooler' },
    linux: restartLinux,
    windows: restartWindows,
  },
  clear_print_queue: {
    what: 'cancel every job of one CUPS queue (a stuck receipt or label queue)',
    defaultTarget: {},
    linux: (q) => [{ argv: ['/usr/bin/cancel', '-a', q], mayFail: false }],
  },
};

/** The steps of a preset on a platform, or why it cannot be configured there. */
export function presetArgv(
  name: string,
  target: string | undefined,
  platform: Platform,
): { argv: string[]; mayFail: boolean }[] | string {
  const p = PRESETS[name];
  if (!p) return `unknown preset ${name} (known: ${Object.keys(PRESETS).join(', ')})`;
  const build = p[platform];
  if (!build) return `preset ${name} is not shipped for ${platform}`;
  const t = target ?? p.defaultTarget[platform];
  if (t === undefined) return `preset ${name} needs target: the service or queue name on this till`;
  return build(t);
}
