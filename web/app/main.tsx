import { createRoot } from 'react-dom/client';
import '../shared/styles.css';
import { applySystemMode } from '../shared/theme.ts';
import { installLinkInterceptor, setBase } from '../shared/router.ts';
import { App } from './app.tsx';

setBase('/app');
applySystemMode();
installLinkInterceptor();
performance.mark('tramline:start');
createRoot(document.getElementById('root')!).render(<App />);

// The service worker caches the app shell only (never /v1 responses); see public/sw.js.
if ('serviceWorker' in navigator && location.protocol !== 'file:') {
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => {
    /* offline shell is a nicety; the app works without it */
  });
}
