/**
 * Names as people read them on a wall. Ids are built from their parents' ids ("produkty-msk-001-t1" is till
 * t1 of store produkty-msk-001), so inside its parent a place is told apart by the end of its id; that end is
 * what a tile shows, and what survives when a label has to be cut.
 */

const SEPARATOR = /^[-_.:/ ]/;

/**
 * The part of `id` that its ancestors' ids do not already say: "produkty-msk-001-t1" under store
 * "produkty-msk-001" is "t1"; store "produkty-msk-001" under chain "produkty" and region "msk" is "001".
 * An id that does not start with an ancestor's id is returned whole.
 */
export function shortId(id: string, ancestors: readonly string[]): string {
  let rest = id;
  for (let changed = true; changed;) {
    changed = false;
    for (const a of ancestors) {
      if (a !== '' && rest.length > a.length + 1 && rest.startsWith(a) && SEPARATOR.test(rest.slice(a.length))) {
        rest = rest.slice(a.length + 1);
        changed = true;
      }
    }
  }
  return rest;
}

/** A tile's label: the human name with the short id beside it, or the short id alone. */
export function tileLabel(shortName: string, displayName: string | undefined): string {
  return displayName && displayName !== shortName ? `${displayName} · ${shortName}` : shortName;
}

/**
 * "store-2" < "store-10": digit runs compare as numbers, the rest character by character. Siblings are laid
 * out in this order, which depends on names only, so a tile keeps its place whatever the states do.
 */
export function naturalCompare(a: string, b: string): number {
  const la = a.length;
  const lb = b.length;
  let i = 0;
  let j = 0;
  while (i < la && j < lb) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    const da = ca >= 48 && ca <= 57;
    const db = cb >= 48 && cb <= 57;
    if (da && db) {
      // Skip leading zeros, then the longer run is the larger number; equal lengths compare digit by digit.
      let si = i;
      let sj = j;
      while (si < la && a.charCodeAt(si) === 48) {
        si++;
      }
      while (sj < lb && b.charCodeAt(sj) === 48) {
        sj++;
      }
      let ei = si;
      let ej = sj;
      while (ei < la && a.charCodeAt(ei) >= 48 && a.charCodeAt(ei) <= 57) {
        ei++;
      }
      while (ej < lb && b.charCodeAt(ej) >= 48 && b.charCodeAt(ej) <= 57) {
        ej++;
      }
      if (ei - si !== ej - sj) {
        return ei - si - (ej - sj);
      }
      for (let k = 0; k < ei - si; k++) {
        const d = a.charCodeAt(si + k) - b.charCodeAt(sj + k);
        if (d !== 0) {
          return d;
        }
      }
      i = ei;
      j = ej;
      continue;
    }
    if (ca !== cb) {
      return ca - cb;
    }
    i++;
    j++;
  }
  return la - i - (lb - j) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * `text` cut to fit `max` pixels with an ellipsis, or whole when it fits; undefined when too little would be
 * left. Names keep their end (`keep: 'end'`), which tells places apart; reasons keep their start, which
 * says the most. `measure` returns a string's width in pixels.
 */
export function fitText(
  text: string,
  max: number,
  measure: (s: string) => number,
  keep: 'start' | 'end'
): string | undefined {
  if (max <= 0) {
    return undefined;
  }
  const width = measure(text);
  if (width <= max) {
    return text;
  }
  const cut = (n: number) => (keep === 'end' ? '…' + text.slice(text.length - n) : text.slice(0, n).trimEnd() + '…');
  // Estimated from the average glyph width, then corrected: a character at a time cost a dozen text
  // measurements per label, thousands of labels per drill-down.
  let n = Math.floor((text.length * (max - measure('…'))) / width);
  while (n >= 2 && measure(cut(n)) > max) {
    n--;
  }
  return n >= 2 ? cut(n) : undefined;
}
