/**
 * A small router over the History API: the route table (routes.tsx) maps paths such as
 * `/console/sessions/:sessionId` to pages; <Link> and navigate() change the path without a reload.
 */
import { lazy, useSyncExternalStore, type AnchorHTMLAttributes, type ComponentType, type LazyExoticComponent, type MouseEvent, type ReactNode } from 'react';

/** Who may see a page: anyone, a signed-in portal user, or a role session (the console). */
export type Area = 'public' | 'portal' | 'console';

export interface Route {
  /** `/console/sessions/:sessionId`: `:name` matches one path segment. */
  readonly path: string;
  /** Shown in the browser's title bar and as the page's heading for screen readers. */
  readonly title: string;
  readonly area: Area;
  readonly page: ComponentType<PageProps> | LazyExoticComponent<ComponentType<PageProps>>;
}

export interface PageProps {
  /** The path's `:name` segments, decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The query string's values. */
  readonly query: URLSearchParams;
}

/**
 * A page loaded only when first shown, in its own file of the build (for heavy ones: the
 * terminal, the replay player): `page: lazyPage(() => import('../features/x/page'), 'XPage')`.
 */
export function lazyPage<Name extends string>(load: () => Promise<Record<Name, ComponentType<PageProps>>>, name: Name): LazyExoticComponent<ComponentType<PageProps>> {
  return lazy(async () => {
    const page: ComponentType<PageProps> = (await load())[name];
    return { default: page };
  });
}

const CHANGED = 'airlock:navigate';

function subscribe(listener: () => void): () => void {
  window.addEventListener('popstate', listener);
  window.addEventListener(CHANGED, listener);
  return () => {
    window.removeEventListener('popstate', listener);
    window.removeEventListener(CHANGED, listener);
  };
}

const currentUrl = (): string => window.location.pathname + window.location.search;

/** The current path and query; re-renders when they change. */
export function useLocation(): URL {
  const href = useSyncExternalStore(subscribe, currentUrl);
  return new URL(href, window.location.origin);
}

export function navigate(to: string, options: { readonly replace?: boolean } = {}): void {
  if (options.replace === true) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(CHANGED));
  window.scrollTo(0, 0);
}

export function matchRoute(routes: readonly Route[], pathname: string): { route: Route; params: Record<string, string> } | undefined {
  const segments = pathname.replace(/\/+$/, '').split('/');
  for (const route of routes) {
    const pattern = route.path.replace(/\/+$/, '').split('/');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((part, index) => {
      const segment = segments[index] ?? '';
      if (part.startsWith(':')) {
        if (segment === '') return false;
        try {
          params[part.slice(1)] = decodeURIComponent(segment);
        } catch {
          return false;
        }
        return true;
      }
      return part === segment;
    });
    if (matches) return { route, params };
  }
  return undefined;
}

/** An <a> that navigates inside the app; modified clicks (new tab…) keep the browser's meaning. */
export function Link({ to, children, ...rest }: { to: string; children: ReactNode } & AnchorHTMLAttributes<HTMLAnchorElement>): ReactNode {
  const onClick = (event: MouseEvent<HTMLAnchorElement>): void => {
    rest.onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    if (rest.target !== undefined && rest.target !== '_self') return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a {...rest} href={to} onClick={onClick}>
      {children}
    </a>
  );
}
