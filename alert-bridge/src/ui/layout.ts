import type { Principal } from '../auth/principal.js';
import { escapeHtml } from '../notify/render.js';
import type { UiText } from './text.js';

export const e = escapeHtml;

/**
 * Only http and https links are written into an href: runbook_url, dashboard_url and externalURL
 * come from alert annotations and Alertmanager, and `javascript:` or `data:` there would run in the
 * page's origin. Anything else is shown as text.
 */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** A link when the URL is http(s), else the escaped text (so a hostile URL stays visible but inert). */
export function link(url: string | null | undefined, label: string): string {
  const href = safeHref(url);
  return href ? `<a href="${e(href)}" rel="noopener noreferrer">${e(label)}</a>` : e(label);
}

/** Served as a file so the Content-Security-Policy can forbid inline styles and scripts. */
export const STYLE = `body{font:14px system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}td,th{border-bottom:1px solid #ddd;padding:.35rem;text-align:left;vertical-align:top}
.P1{color:#b00;font-weight:bold}.P2{color:#c60}.tag{background:#eee;border-radius:3px;padding:0 .3rem;margin-left:.3rem}
header{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid #ddd;padding-bottom:.5rem;margin-bottom:1rem}
header form{display:inline}.muted{color:#666}.notice{background:#fff6d6;border:1px solid #e6c200;padding:.6rem;border-radius:4px}
.error{background:#fde8e8;border:1px solid #d33;padding:.6rem;border-radius:4px}
.actions{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-end;margin:.5rem 0 1rem}.actions form{display:flex;gap:.4rem;align-items:flex-end;flex-wrap:wrap}
label{display:flex;flex-direction:column;font-size:12px;color:#555;gap:.15rem}input,select,textarea{font:inherit;padding:.25rem}
button{font:inherit;padding:.3rem .8rem;cursor:pointer}button.primary{background:#1f6feb;color:#fff;border:1px solid #1f6feb;border-radius:4px}
button.danger{background:#b00;color:#fff;border:1px solid #b00;border-radius:4px}
ol.history{list-style:none;padding:0}ol.history li{padding:.3rem 0;border-bottom:1px solid #eee}ol.history time{color:#555;margin-right:.4rem}
blockquote{margin:.2rem 0 0 1rem;padding-left:.6rem;border-left:3px solid #ccc;white-space:pre-wrap}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.facts dt{color:#555}dl.facts dd{margin:0}.bad{color:#b00;font-weight:bold}
.login{max-width:20rem;margin:4rem auto}.login form{display:flex;flex-direction:column;gap:.6rem}`;

export const STYLE_PATH = '/ui/assets/style.css';

export interface PageContext {
  L: UiText;
  /** The signed-in person (absent on link and login pages). */
  user?: Principal | undefined;
  /** CSRF token for the forms of this page. */
  csrf?: string | undefined;
}

export function csrfField(csrf: string | undefined): string {
  return csrf ? `<input type="hidden" name="_csrf" value="${e(csrf)}">` : '';
}

export function page(ctx: PageContext, title: string, body: string): string {
  const { L, user, csrf } = ctx;
  const who = user
    ? `<span>${e(L.signedInAs(user.name, user.role))}${
        user.via === 'session'
          ? ` <form method="post" action="/ui/logout">${csrfField(csrf)}<button>${e(L.logout)}</button></form>`
          : ''
      }</span>`
    : '';
  return `<!doctype html><html lang="${L.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${e(title)}</title><link rel="stylesheet" href="${STYLE_PATH}"></head><body><header><a href="/ui">TillWatch</a>${who}</header>${body}</body></html>`;
}

/** A page that only says what went wrong (403 link, 404, 410, 429 ...). */
export function messagePage(ctx: PageContext, title: string, message: string, extra = ''): string {
  return page(ctx, title, `<h1>${e(title)}</h1><p class="error">${e(message)}</p>${extra}`);
}
