// The measured exposition of one fully configured till (till-full.prom beside this file), parsed once
// for the scale bench (which replays it as a fleet) and the rules' read budget (which counts what each
// selector reads of it). Hand-parsed: a Prometheus text line of this capture is `name{labels} value`,
// and the project carries no exposition parser library for two readers of one fixed file.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface CapturedSeries {
  name: string;
  /** Label values as written in the exposition (escapes kept). */
  labels: Record<string, string>;
  /** The label list as written between the braces, '' for none. */
  labelText: string;
  value: string;
}

let capture: CapturedSeries[] | undefined;

export function tillCapture(): CapturedSeries[] {
  capture ??= readFileSync(fileURLToPath(new URL('till-full.prom', import.meta.url)), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
      if (!m) throw new Error(`till-full.prom: cannot parse ${l}`);
      const labels: Record<string, string> = {};
      for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
        labels[k!] = v!;
      return { name: m[1]!, labels, labelText: m[2] ?? '', value: m[3]! };
    });
  return capture;
}
