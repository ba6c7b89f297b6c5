/**
 * A browser as far as redirect sign-ins need one: follows redirects by hand, keeps cookies
 * (name, path, Max-Age=0 deletes), and calls the API the way the web console does (session
 * cookie plus the CSRF header). Enough to walk Airlock ⇄ identity provider round trips over HTTP.
 */
import type { AnyOperation, InputOf, OutputOf } from '@airlock/protocol';

interface Cookie {
  readonly value: string;
  readonly path: string;
}

export interface Visit {
  readonly url: string;
  readonly status: number;
  readonly location: string | undefined;
  readonly body: string;
}

export class CookieBrowser {
  private readonly jar = new Map<string, Cookie>();

  cookie(name: string): string | undefined {
    return this.jar.get(name)?.value;
  }

  private header(url: URL): string {
    return [...this.jar.entries()]
      .filter(([, cookie]) => url.pathname.startsWith(cookie.path))
      .map(([name, cookie]) => `${name}=${cookie.value}`)
      .join('; ');
  }

  private keep(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const path = attributes.find((attribute) => attribute.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expired = attributes.some((attribute) => attribute.toLowerCase() === 'max-age=0');
      if (expired) this.jar.delete(name);
      else this.jar.set(name, { value: pair.slice(eq + 1), path });
    }
  }

  /** One GET, without following a redirect. */
  async get(url: string): Promise<Visit> {
    const target = new URL(url);
    const response = await fetch(target, { redirect: 'manual', headers: { cookie: this.header(target) }, signal: AbortSignal.timeout(10_000) });
    this.keep(response);
    const location = response.headers.get('location');
    return { url, status: response.status, location: location === null ? undefined : new URL(location, target).href, body: await response.text() };
  }

  /** A form POST, as an identity provider's auto-submitting page makes it (SAML's HTTP-POST binding), without following a redirect. */
  async postForm(url: string, fields: Readonly<Record<string, string>>): Promise<Visit> {
    const target = new URL(url);
    const response = await fetch(target, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: this.header(target) },
      body: new URLSearchParams(fields).toString(),
      signal: AbortSignal.timeout(10_000),
    });
    this.keep(response);
    const location = response.headers.get('location');
    return { url, status: response.status, location: location === null ? undefined : new URL(location, target).href, body: await response.text() };
  }

  /** GETs and follows redirects until `stop` says a location is where to stop (not fetched), or a page answers. */
  async follow(url: string, stop: (location: string) => boolean): Promise<Visit> {
    let visit = await this.get(url);
    for (let hops = 0; hops < 15; hops += 1) {
      if (visit.location === undefined || stop(visit.location)) return visit;
      visit = await this.get(visit.location);
    }
    throw new Error(`more than 15 redirects from ${url}`);
  }

  /** An API call as the web console makes it: cookies and the CSRF header. */
  async call<Op extends AnyOperation>(endpoint: string, spec: Op, input: InputOf<Op>): Promise<{ status: number; body: OutputOf<Op> & { __type?: string; message?: string } }> {
    const target = new URL(`/api/${spec.service}/${spec.name}`, endpoint);
    const response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: this.header(target), 'x-airlock-csrf': this.cookie('airlock_csrf') ?? '' },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(10_000),
    });
    this.keep(response);
    return { status: response.status, body: (await response.json()) as OutputOf<Op> & { __type?: string; message?: string } };
  }
}
