/**
 * embed.js: mounts a Tramline portal session in an iframe that sizes itself to its content.
 *
 *   <script src="https://gateway.example.com/embed.js" data-url="<portal session url>"></script>
 *     mounts right after the script tag (or into the element matched by data-target="#selector");
 *   Tramline.mountPortal(element, url) → { iframe, destroy() } does the same from code.
 *
 * The portal posts its height to the parent; only messages from the iframe's own window and origin are
 * listened to. The portal itself refuses to render inside a site that is not in the tenant's allowed
 * embed origins (Content-Security-Policy frame-ancestors), whatever this script does.
 */
interface Mounted {
  iframe: HTMLIFrameElement;
  destroy(): void;
}

function mountPortal(el: Element | string, url: string, opts: { minHeight?: number; title?: string } = {}): Mounted {
  const host = typeof el === 'string' ? document.querySelector(el) : el;
  if (!host) throw new Error(`Tramline.mountPortal: no element ${String(el)}`);
  const src = new URL(url, location.href);
  const iframe = document.createElement('iframe');
  iframe.src = src.href;
  iframe.title = opts.title ?? 'Webhooks portal';
  iframe.setAttribute('allow', 'clipboard-write');
  iframe.setAttribute('referrerpolicy', 'no-referrer');
  iframe.style.cssText = `display:block;width:100%;border:0;min-height:${opts.minHeight ?? 480}px;height:${opts.minHeight ?? 480}px;color-scheme:normal`;
  const onMessage = (e: MessageEvent): void => {
    if (e.source !== iframe.contentWindow || e.origin !== src.origin) return;
    const d = e.data as { type?: unknown; height?: unknown };
    if (d && d.type === 'tramline:portal:height' && typeof d.height === 'number' && d.height > 0 && d.height < 100_000) {
      iframe.style.height = `${Math.max(Math.ceil(d.height), 120)}px`;
      iframe.style.minHeight = '0';
    }
  };
  window.addEventListener('message', onMessage);
  host.appendChild(iframe);
  return {
    iframe,
    destroy() {
      window.removeEventListener('message', onMessage);
      iframe.remove();
    },
  };
}

const api = { mountPortal, version: 1 };
(window as unknown as { Tramline: typeof api }).Tramline = api;

const script = document.currentScript as HTMLScriptElement | null;
const dataUrl = script?.dataset.url;
if (script && dataUrl) {
  const target = script.dataset.target ? document.querySelector(script.dataset.target) : null;
  let host = target;
  if (!host) {
    host = document.createElement('div');
    host.className = 'tramline-portal';
    script.after(host);
  }
  mountPortal(host, dataUrl);
}
