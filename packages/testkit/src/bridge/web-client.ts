/**
 * A cookie-keeping HTTP client for the pages (no browser): enough to log in, read a form's CSRF
 * token and post forms the way a browser would, so tests can also post them without the token.
 */
export class WebClient {
  readonly cookies = new Map<string, string>();
  lastSetCookie: string[] = [];

  constructor(
    readonly base: string,
    private readonly headers: Record<string, string> = {},
  ) {}

  private remember(res: Response) {
    this.lastSetCookie = res.headers.getSetCookie();
    for (const c of this.lastSetCookie) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string): Promise<{ status: number; text: string; location: string | null; res: Response }> {
    const res = await fetch(new URL(path, this.base), {
      headers: { ...this.headers, cookie: this.cookieHeader() },
      redirect: 'manual',
    });
    this.remember(res);
    return { status: res.status, text: await res.text(), location: res.headers.get('location'), res };
  }

  async post(path: string, form: Record<string, string>) {
    const res = await fetch(new URL(path, this.base), {
      method: 'POST',
      headers: {
        ...this.headers,
        cookie: this.cookieHeader(),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
    this.remember(res);
    return { status: res.status, text: await res.text(), location: res.headers.get('location'), res };
  }

  /** The CSRF token of the page's forms. */
  static csrfOf(html: string): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (!m) throw new Error('no CSRF token on the page');
    return m[1]!;
  }

  async login(name: string, password: string) {
    const form = await this.get('/ui/login');
    return this.post('/ui/login', {
      _csrf: WebClient.csrfOf(form.text),
      next: '/ui',
      username: name,
      password,
    });
  }
}
