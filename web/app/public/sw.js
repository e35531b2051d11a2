/*
 * Tramline service worker (scope /app/): keeps the app shell (HTML, scripts, styles, icons) usable offline.
 * It never caches API responses (/v1/…) nor anything but GETs of this app's own files, and drops every cache
 * when the page says so (sign-out).
 */
const CACHE = 'tramline-app-shell-v1';
const SCOPE = '/app/';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('tramline-app-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});
self.addEventListener('message', (e) => {
  if (e.data && e.data.type === 'clear') e.waitUntil(caches.keys().then((keys) => Promise.all(keys.map((k) => caches.delete(k)))));
});

const isShell = (url) => url.origin === self.location.origin && url.pathname.startsWith(SCOPE);

self.addEventListener('fetch', (e) => {
  const req = e.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || !isShell(url) || req.headers.has('authorization')) return;
  if (req.mode === 'navigate') {
    // Pages: network first (fresh HTML, fresh CSP), the cached shell when offline.
    e.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            caches.open(CACHE).then((c) => c.put(SCOPE + '__shell', copy));
          }
          return res;
        })
        .catch(() => caches.match(SCOPE + '__shell').then((r) => r || Response.error())),
    );
    return;
  }
  if (url.pathname.startsWith(SCOPE + 'assets/') || url.pathname.startsWith(SCOPE + 'icon')) {
    // Hashed assets and icons: cache first.
    e.respondWith(
      caches.match(req).then(
        (hit) =>
          hit ||
          fetch(req).then((res) => {
            if (res.ok) {
              const copy = res.clone();
              caches.open(CACHE).then((c) => c.put(req, copy));
            }
            return res;
          }),
      ),
    );
  }
});
