// Views are routes: the path is the state an operator shares by link. A tiny History API router.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { view: 'overview' }
  | { view: 'ven'; venId: string }
  | { view: 'events' }
  | { view: 'event'; eventId: string }
  | { view: 'sites' }
  | { view: 'site'; siteId: string }
  | { view: 'winter-river' }
  | { view: 'edge' }
  | { view: 'refused' }
  | { view: 'ledger'; nodeId?: string }
  | { view: 'node'; nodeId: string }
  | { view: 'analytics' }
  | { view: 'quality' }
  | { view: 'signin' }
  | { view: 'not-found'; path: string };

export function parseRoute(path: string): Route {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second] = parts;
  if (parts.length === 0) return { view: 'overview' };
  if (first === 'vens' && second && parts.length === 2) return { view: 'ven', venId: second };
  if (first === 'events' && parts.length === 1) return { view: 'events' };
  if (first === 'events' && second && parts.length === 2) return { view: 'event', eventId: second };
  if (first === 'sites' && parts.length === 1) return { view: 'sites' };
  if (first === 'sites' && second && parts.length === 2) return { view: 'site', siteId: second };
  if (first === 'winter-river' && parts.length === 1) return { view: 'winter-river' };
  if (first === 'edge' && parts.length === 1) return { view: 'edge' };
  if (first === 'refused' && parts.length === 1) return { view: 'refused' };
  if (first === 'ledger' && parts.length <= 2) return second ? { view: 'ledger', nodeId: second } : { view: 'ledger' };
  if (first === 'nodes' && second && parts.length === 2) return { view: 'node', nodeId: second };
  if (first === 'analytics' && parts.length === 1) return { view: 'analytics' };
  if (first === 'data-quality' && parts.length === 1) return { view: 'quality' };
  if (first === 'signin' && parts.length === 1) return { view: 'signin' };
  return { view: 'not-found', path };
}

export const hrefOf = {
  ven: (venId: string) => `/vens/${encodeURIComponent(venId)}`,
  event: (eventId: string) => `/events/${encodeURIComponent(eventId)}`,
  ledger: (nodeId: string) => `/ledger/${encodeURIComponent(nodeId)}`,
  node: (nodeId: string) => `/nodes/${encodeURIComponent(nodeId)}`,
  site: (siteId: string) => `/sites/${encodeURIComponent(siteId)}`,
};

export function navigate(href: string, replace = false): void {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** Same-origin link clicks navigate in the page. */
export function interceptLinks(): void {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element).closest?.('a');
    if (!a || a.target || a.origin !== location.origin || a.hasAttribute('download')) return;
    e.preventDefault();
    if (a.pathname + a.search !== location.pathname + location.search) navigate(a.pathname + a.search);
  });
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname));
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return route;
}

/** A query parameter of the current URL, kept in the URL when set. */
export function useQueryParam(name: string, fallback: string): [string, (v: string) => void] {
  const [value, setValue] = useState(() => new URLSearchParams(location.search).get(name) ?? fallback);
  const set = (v: string) => {
    const params = new URLSearchParams(location.search);
    if (v === fallback) params.delete(name);
    else params.set(name, v);
    const qs = params.toString();
    history.replaceState(null, '', `${location.pathname}${qs ? `?${qs}` : ''}`);
    setValue(v);
  };
  return [value, set];
}
