/**
 * Renders a per-target payload template: any JSON value whose strings may contain `{{path}}`
 * placeholders into the outgoing event (e.g. `{{ticket.store}}`). A string that is exactly one
 * placeholder keeps the value's type (numbers, arrays, objects). Hand-written because a full
 * template engine would let config run code, and the shapes service desks need are simple maps.
 */
export function renderTemplate(tpl: unknown, ctx: unknown): unknown {
  if (typeof tpl === 'string') {
    const whole = /^\{\{\s*([\w.]+)\s*\}\}$/.exec(tpl);
    if (whole) return lookup(ctx, whole[1]!) ?? null;
    return tpl.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_m, p: string) => {
      const v = lookup(ctx, p);
      return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(tpl)) return tpl.map((x) => renderTemplate(x, ctx));
  if (tpl && typeof tpl === 'object') {
    return Object.fromEntries(Object.entries(tpl).map(([k, v]) => [k, renderTemplate(v, ctx)]));
  }
  return tpl;
}

function lookup(ctx: unknown, path: string): unknown {
  let cur: unknown = ctx;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}
