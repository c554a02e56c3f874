import { parseHealthRules, State, valueToState, severityToState } from './states';

describe('health rules', () => {
  it('maps exact values before threshold steps, like Grafana value mappings over thresholds', () => {
    const rules = parseHealthRules('2=info, base:critical, 0.5:warning, 1:ok');
    expect(valueToState(2, rules)).toBe(State.info);
    expect(valueToState(0, rules)).toBe(State.critical);
    expect(valueToState(0.7, rules)).toBe(State.warning);
    expect(valueToState(1, rules)).toBe(State.ok);
    expect(valueToState(5, rules)).toBe(State.ok);
  });

  it('treats a missing value, or one no rule covers, as unknown rather than healthy', () => {
    const rules = parseHealthRules('1=ok');
    expect(valueToState(NaN, rules)).toBe(State.unknown);
    expect(valueToState(0, rules)).toBe(State.unknown);
  });

  it.each([
    ['1=fine', 'unknown state "fine"'],
    ['x:ok', '"x" is not a number'],
    ['just words', 'is not "<value>=<state>"'],
  ])('rejects %s with a message naming the item', (text, message) => {
    expect(() => parseHealthRules(text)).toThrow(message);
  });

  it('ranks severities critical > warning > info, an unknown severity as warning', () => {
    expect(severityToState('critical')).toBe(State.critical);
    expect(severityToState('info')).toBe(State.info);
    expect(severityToState(undefined)).toBe(State.warning);
    expect(severityToState('page')).toBe(State.warning);
  });
});
