import { fitText, naturalCompare, shortId, tileLabel } from './names';

describe('names on tiles', () => {
  it('keeps the part of an id that its parents do not already say', () => {
    expect(shortId('produkty-msk-001-t1', ['produkty-msk-001', 'msk', 'produkty'])).toBe('t1');
    expect(shortId('produkty-msk-001', ['msk', 'produkty'])).toBe('001');
    expect(shortId('till-7', ['store-3', 'north'])).toBe('till-7');
    expect(shortId('msk', ['msk'])).toBe('msk');
  });

  it('puts the human name beside the id', () => {
    expect(tileLabel('001', 'Продукты у дома №1')).toBe('Продукты у дома №1 · 001');
    expect(tileLabel('t1', undefined)).toBe('t1');
  });

  it('orders store-2 before store-10', () => {
    const names = ['store-10', 'store-2', 'store-1', 'store-02b', 'a'];
    expect([...names].sort(naturalCompare)).toEqual(['a', 'store-1', 'store-2', 'store-02b', 'store-10']);
  });

  it('cuts a name from the left so its distinguishing end survives, a reason from the right', () => {
    const measure = (s: string) => s.length * 7;
    expect(fitText('produkty-kzn-001-t1', 70, measure, 'end')).toBe('…zn-001-t1');
    expect(fitText('Магазин недоступен', 70, measure, 'start')).toBe('Магазин н…');
    expect(fitText('t1', 70, measure, 'end')).toBe('t1');
    expect(fitText('produkty', 10, measure, 'end')).toBeUndefined();
  });
});
