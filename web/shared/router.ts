import { useEffect, useState } from 'react';

/**
 * A minimal history router: the app's location is `location.pathname` below a base (/app), links are
 * ordinary <a href> that `navigate` intercepts, and `match` pulls parameters out of a pattern like
 * `/consumers/:consumer`.
 */
let base = '';
const listeners = new Set<() => void>();

export function setBase(b: string): void {
  base = b.replace(/\/$/, '');
}

export function currentPath(): string {
  const p = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : location.pathname;
  return p || '/';
}

export function href(path: string): string {
  return base + path;
}

export function navigate(path: string, replace = false): void {
  const url = href(path);
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  for (const l of listeners) l();
  window.scrollTo(0, 0);
}

export function usePath(): { path: string; search: URLSearchParams } {
  const [, set] = useState(0);
  useEffect(() => {
    const on = (): void => set((n) => n + 1);
    listeners.add(on);
    window.addEventListener('popstate', on);
    return () => {
      listeners.delete(on);
      window.removeEventListener('popstate', on);
    };
  }, []);
  return { path: currentPath(), search: new URLSearchParams(location.search) };
}

export function match(pattern: string, path: string): Record<string, string> | null {
  const ps = pattern.split('/').filter(Boolean);
  const xs = path.split('/').filter(Boolean);
  if (ps.length !== xs.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i]!;
    const x = xs[i]!;
    if (p.startsWith(':')) out[p.slice(1)] = decodeURIComponent(x);
    else if (p !== x) return null;
  }
  return out;
}

/** Intercepts clicks on same-app links so they navigate without a reload. */
export function installLinkInterceptor(): void {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith(base + '/') && url.pathname !== base) return;
    e.preventDefault();
    navigate(url.pathname.slice(base.length) + url.search);
  });
}
