// A connected pair of pseudo-terminals made by socat (Debian package), for serial-port tests:
// whatever is written to one end comes out of the other, like a null-modem cable.
import { spawn, type ChildProcess } from 'node:child_process';

export interface PtyPair {
  a: string;
  b: string;
  close(): Promise<void>;
}

export async function openPtyPair(timeoutMs = 10_000): Promise<PtyPair> {
  const child: ChildProcess = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const paths: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`socat did not create a pty pair in time: ${text}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start socat: ${err.message}`));
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      for (const m of text.matchAll(/PTY is (\S+)/g)) if (m[1] && !paths.includes(m[1])) paths.push(m[1]);
      if (paths.length >= 2 && /starting data transfer loop/.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    a: paths[0] as string,
    b: paths[1] as string,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}
