import { describe, expect, it } from 'vitest';
import {
  parseCli,
  suggest,
  unknownCommand,
  unknownOption,
  UsageError,
  versionText,
  wantsHelp,
} from './cli.js';

describe('suggest', () => {
  it.each([
    ['fleat', ['devices', 'fleet'], 'fleet'],
    ['conifg', ['config', 'listen', 'help'], 'config'],
    ['backtets', ['inventory', 'backtest', 'forecast'], 'backtest'],
    ['helo', ['help', 'version'], 'help'],
  ])('%s → %s', (input, candidates, want) => {
    expect(suggest(input, candidates)).toBe(want);
  });

  it.each([
    ['frobnicate', ['check', 'targets', 'agents']],
    ['gpu', ['system', 'network']],
    // Two letters are two edits from any other two letters: no guess.
    ['xy', ['ab', 'help']],
  ])('no guess for %s', (input, candidates) => {
    expect(suggest(input, candidates)).toBeUndefined();
  });
});

describe('parseCli', () => {
  const options = {
    config: { type: 'string' },
    listen: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
  } as const;

  it('parses what it knows', () => {
    expect(parseCli(['--config', 'a.yml', '-v'], options).values).toEqual({ config: 'a.yml', verbose: true });
  });

  it('names an unknown option with the one meant, and carries the usage', () => {
    const err = (() => {
      try {
        parseCli(['--conifg=a.yml'], options, { usage: 'usage: x' });
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect(err?.message).toBe('unknown option --conifg (did you mean --config?)');
    expect(err?.usage).toBe('usage: x');
  });

  it('names an unknown option without a guess when none is close, and an unknown short flag', () => {
    expect(unknownOption(['--colour'], options)).toBe('unknown option --colour');
    expect(unknownOption(['-x'], options)).toBe('unknown option -x');
    expect(unknownOption(['--', '--colour'], options)).toBeUndefined();
  });

  it('turns parseArgs errors into usage errors', () => {
    expect(() => parseCli(['--config'], options)).toThrow(
      new UsageError("Option '--config <value>' argument missing"),
    );
    expect(() => parseCli(['stray'], options)).toThrow(UsageError);
  });
});

describe('command helpers', () => {
  it('unknownCommand', () => {
    expect(unknownCommand('fleat', ['devices', 'fleet']).message).toBe(
      'unknown command "fleat" (did you mean "fleet"?)',
    );
    expect(unknownCommand('zzz', ['devices', 'fleet']).message).toBe('unknown command "zzz"');
  });

  it('wantsHelp stops at --', () => {
    expect(wantsHelp(['fleet', '-h'])).toBe(true);
    expect(wantsHelp(['--', '--help'])).toBe(false);
  });

  it('versionText reads like node_exporter', () => {
    expect(versionText('tillwatch', '1.2.3')).toBe(
      `tillwatch, version 1.2.3 (revision: unknown)\n  node version: ${process.version}\n  platform: ${process.platform}/${process.arch}\n`,
    );
  });
});
