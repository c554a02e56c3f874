// The measured exposition of one fully configured till (till-full.prom beside this file), parsed once
// for the scale bench (which replays it as a fleet) and the rules' read budget (which counts what each
// selector reads of it).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseExposition, type ExpositionSample } from './exposition.js';

export type CapturedSeries = ExpositionSample;

let capture: CapturedSeries[] | undefined;

export function tillCapture(): CapturedSeries[] {
  capture ??= parseExposition(
    readFileSync(fileURLToPath(new URL('till-full.prom', import.meta.url)), 'utf8'),
    'till-full.prom',
  );
  return capture;
}
