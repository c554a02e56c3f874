import { colorManipulator, GrafanaTheme2 } from '@grafana/data';
import { State, STATE_NAMES, StateCode, StateName } from './states';

/**
 * One fixed palette for the states, whatever the Grafana theme: a wall is read by people with every kind
 * of colour vision, and the colour must mean the same on every screen. Okabe and Ito's set ("Color
 * Universal Design", 2008, https://jfly.uni-koeln.de/color/) was designed to stay distinguishable for the
 * common forms of colour blindness: vermillion for critical, orange for warning, blue for info, bluish green
 * for ok and reddish purple for no data. `palette.test.ts` measures every pair under simulated protanopia,
 * deuteranopia and tritanopia (Machado et al. 2009) and against both theme backgrounds.
 */
export const STATE_COLORS: Record<StateName, string> = {
  ok: '#009E73',
  info: '#0072B2',
  warning: '#E69F00',
  unknown: '#CC79A7',
  critical: '#D55E00',
};

export const PALETTE: readonly string[] = STATE_NAMES.map((s) => STATE_COLORS[s]);

/** Black or white, whichever reads better on a state's colour (WCAG contrast ratio). */
export function textOn(colour: string): string {
  return colorManipulator.getContrastRatio('#000000', colour) >= colorManipulator.getContrastRatio('#ffffff', colour)
    ? '#000000'
    : '#ffffff';
}

/**
 * The state a threshold or value-mapping colour stands for, by its hue: reds are critical, oranges and
 * yellows warning, greens ok, blues info, purples and greys (including "text" and "transparent") no data.
 * A Grafana user picks colours in the standard thresholds and value-mappings editors; the tile is then
 * drawn in the fixed palette above, not in the exact shade picked, so every wall reads the same.
 */
export function stateOfColour(colour: string, theme: GrafanaTheme2): StateCode {
  const resolved = theme.visualization.getColorByName(colour);
  let rgba: number[];
  try {
    rgba = colorManipulator.decomposeColor(colorManipulator.asRgbString(resolved)).values.map(Number);
  } catch {
    return State.unknown;
  }
  const [r = 0, g = 0, b = 0, a = 1] = rgba;
  if (a < 0.2) {
    return State.unknown;
  }
  const max = Math.max(r, g, b) / 255;
  const min = Math.min(r, g, b) / 255;
  const light = (max + min) / 2;
  const chroma = max - min;
  const saturation = chroma === 0 ? 0 : chroma / (1 - Math.abs(2 * light - 1));
  if (saturation < 0.2 || chroma < 0.08) {
    return State.unknown;
  }
  const rn = r / 255;
  const gn = g / 255;
  const bn = b / 255;
  let hue: number;
  if (max === rn) {
    hue = 60 * (((gn - bn) / chroma + 6) % 6);
  } else if (max === gn) {
    hue = 60 * ((bn - rn) / chroma + 2);
  } else {
    hue = 60 * ((rn - gn) / chroma + 4);
  }
  if (hue < 15 || hue >= 340) {
    return State.critical;
  }
  if (hue < 70) {
    return State.warning;
  }
  if (hue < 170) {
    return State.ok;
  }
  if (hue < 260) {
    return State.info;
  }
  return State.unknown;
}
