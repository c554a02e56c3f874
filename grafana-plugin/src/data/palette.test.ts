import { createTheme } from '@grafana/data';
import {
  Color,
  differenceCiede2000,
  filterDeficiencyDeuter,
  filterDeficiencyProt,
  filterDeficiencyTrit,
  parse,
} from 'culori';
import { STATE_COLORS, stateOfColour, textOn } from './palette';
import { State, STATE_NAMES } from './states';

const de = differenceCiede2000();
// Machado, Oliveira and Fernandes (2009), full severity: the common forms of colour blindness (protanopia,
// deuteranopia: ~8 % of men) and the rare one (tritanopia).
const vision: Record<string, (c: string) => Color | string> = {
  normal: (c) => c,
  protanopia: (c) => filterDeficiencyProt(1)(parse(c)!),
  deuteranopia: (c) => filterDeficiencyDeuter(1)(parse(c)!),
  tritanopia: (c) => filterDeficiencyTrit(1)(parse(c)!),
};
// CIEDE2000: ~2 is a just noticeable difference; above 10 two colours read as different colours at a glance.
const MIN: Record<string, number> = { normal: 20, protanopia: 12, deuteranopia: 12, tritanopia: 10 };

describe('the state palette', () => {
  it.each(Object.keys(vision))('keeps every pair of states apart with %s', (kind) => {
    const see = vision[kind]!;
    for (let i = 0; i < STATE_NAMES.length; i++) {
      for (let j = i + 1; j < STATE_NAMES.length; j++) {
        const a = STATE_COLORS[STATE_NAMES[i]!];
        const b = STATE_COLORS[STATE_NAMES[j]!];
        expect({ pair: `${STATE_NAMES[i]}/${STATE_NAMES[j]}`, far: de(see(a), see(b)) >= MIN[kind]! }).toEqual({
          pair: `${STATE_NAMES[i]}/${STATE_NAMES[j]}`,
          far: true,
        });
      }
    }
  });

  it('stands out from the dark and the light theme background', () => {
    for (const mode of ['dark', 'light'] as const) {
      const bg = createTheme({ colors: { mode } }).colors.background.primary;
      for (const s of STATE_NAMES) {
        expect(de(STATE_COLORS[s], bg)).toBeGreaterThan(20);
      }
    }
  });

  it('writes on each state in black or white, whichever contrasts more', () => {
    expect(textOn(STATE_COLORS.warning)).toBe('#000000');
    expect(textOn('#000000')).toBe('#ffffff');
  });
});

describe('stateOfColour', () => {
  const theme = createTheme();
  it('reads the state from the hue of a Grafana colour name or a CSS colour', () => {
    expect(stateOfColour('red', theme)).toBe(State.critical);
    expect(stateOfColour('dark-red', theme)).toBe(State.critical);
    expect(stateOfColour('orange', theme)).toBe(State.warning);
    expect(stateOfColour('yellow', theme)).toBe(State.warning);
    expect(stateOfColour('green', theme)).toBe(State.ok);
    expect(stateOfColour('semi-dark-blue', theme)).toBe(State.info);
    expect(stateOfColour('purple', theme)).toBe(State.unknown);
    expect(stateOfColour('#808080', theme)).toBe(State.unknown);
    expect(stateOfColour('transparent', theme)).toBe(State.unknown);
    expect(stateOfColour('#00ff00', theme)).toBe(State.ok);
  });
});
