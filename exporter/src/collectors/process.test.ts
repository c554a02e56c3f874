import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listWindowsProcesses, WINDOWS_PROCESS_SCRIPT } from './process.js';

describe('Windows process list', () => {
  it('parses recorded Win32_Process JSON', async () => {
    const json = readFileSync(
      fileURLToPath(new URL('../testdata/powershell/win32-process.json', import.meta.url)),
      'utf8',
    );
    let asked = '';
    const list = await listWindowsProcesses(async (s) => {
      asked = s;
      return json;
    }, new AbortController().signal);
    expect(asked).toBe(WINDOWS_PROCESS_SCRIPT);
    expect(list.find((p) => p.pid === 2412)).toEqual({
      pid: 2412,
      executable: 'java.exe',
      cmdline: '"C:\\UTM\\jre\\bin\\java.exe" -jar C:\\UTM\\transporter\\lib\\transport.jar',
      residentBytes: 412180480,
      startTimeSeconds: 1789995000.5,
    });
    expect(list.find((p) => p.pid === 4)?.cmdline).toBe('System');
  });
});
