/**
 * Fills a link template: `${name}` is replaced by the URL-encoded label value, `${name:raw}` by the value
 * as is (for a label that holds a whole URL, such as `runbook_url`). Unknown names become empty; a link
 * that comes out empty is not shown.
 */
export function renderLink(template: string, vars: Record<string, string | undefined>): string | undefined {
  if (template.trim() === '') {
    return undefined;
  }
  const out = template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:raw)?\}/g, (_m, name: string, raw?: string) => {
    const v = vars[name];
    if (v === undefined) {
      return '';
    }
    return raw ? v : encodeURIComponent(v);
  });
  return out.trim() === '' ? undefined : out;
}
