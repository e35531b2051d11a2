import { createRoot } from 'react-dom/client';
import '../shared/styles.css';
import { applySystemMode } from '../shared/theme.ts';
import { portalClaims } from '../shared/format.ts';
import { installLinkInterceptor, setBase } from '../shared/router.ts';
import { Portal } from './portal.tsx';

/**
 * The consumer portal at /portal/{tenant}#token=tlp_…. The token is read from the fragment (never sent to
 * the server in a URL), kept in sessionStorage for reloads, and removed from the address bar.
 */
const tenant = decodeURIComponent(location.pathname.split('/')[2] ?? '');
setBase(`/portal/${encodeURIComponent(tenant)}`);
installLinkInterceptor();
applySystemMode();

// Storage may be refused (a third-party iframe with third-party storage blocked): then the token lives in
// memory only, which is enough until a reload.
const key = `tramline.portal.${tenant}`;
const storage = (): Storage | null => {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
};
const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromHash) {
  try {
    storage()?.setItem(key, fromHash);
  } catch {
    /* quota or denied */
  }
  history.replaceState(null, '', location.pathname + location.search);
}
const token = fromHash ?? storage()?.getItem(key) ?? null;
const claims = token ? portalClaims(token) : null;

// The tenant's own installable app: its manifest (name, icons, colour) and the shell-only service worker.
if (tenant && !document.querySelector('link[rel="manifest"]')) {
  const link = document.createElement('link');
  link.rel = 'manifest';
  link.href = `/portal/${encodeURIComponent(tenant)}/manifest.webmanifest`;
  document.head.append(link);
}
// One service worker for every tenant's portal (it keeps each tenant's shell apart, see public/sw.js).
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/portal/sw.js', { scope: '/portal/' }).catch(() => undefined);

// Embedded (embed.js): tell the host page our height so its iframe fits the content.
if (window.parent !== window) {
  let last = 0;
  const send = () => {
    const h = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (h !== last) {
      last = h;
      window.parent.postMessage({ type: 'tramline:portal:height', height: h }, '*');
    }
  };
  new ResizeObserver(send).observe(document.documentElement);
  addEventListener('load', send);
}

createRoot(document.getElementById('root')!).render(<Portal tenant={tenant} token={token && claims && claims.t === tenant ? token : null} claims={claims} />);
