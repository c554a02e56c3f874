// Seams between collectors and the host OS. Each has a real default; tests and the fleet simulator
// inject fixtures (a fake sysfs/procfs tree, recorded PowerShell output, a pinned clock).
import { spawn } from 'node:child_process';

/** Runs a PowerShell script and returns its stdout. Windows only in production. */
export type PowerShellRunner = (script: string, signal: AbortSignal) => Promise<string>;

/** A serial port as the OS lists it (SerialPort.list() shape), found without opening it. */
export interface SerialPortInfo {
  path: string;
  vendorId?: string | undefined;
  productId?: string | undefined;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
}

export type SerialPortLister = () => Promise<SerialPortInfo[]>;

/** What the system collector reads; the default is backed by systeminformation. */
export interface SystemInfoSource {
  /** CPU busy share since the previous call, 0..1. */
  cpuUsage(): Promise<number>;
  memory(): Promise<{ total: number; available: number }>;
  filesystems(): Promise<Array<{ mountpoint: string; size: number; available: number; type: string }>>;
  /** Seconds since boot. */
  uptime(): Promise<number>;
  temperatures(): Promise<Array<{ sensor: string; celsius: number }>>;
}

export const defaultPowerShell: PowerShellRunner = (script, signal) =>
  new Promise((resolve, reject) => {
    const child = spawn(
      'powershell.exe',
      ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', script],
      {
        signal,
        windowsHide: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else
        reject(
          new Error(
            `powershell exited with ${code}: ${Buffer.concat(err).toString('utf8').trim().slice(0, 300)}`,
          ),
        );
    });
  });

export const defaultSerialPorts: SerialPortLister = async () => {
  // Loaded on first use: most tills list no serial devices, and serialport costs RSS (docs/benchmarks.md).
  const { SerialPort } = await import('serialport');
  return SerialPort.list();
};
