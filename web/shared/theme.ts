import type { Branding } from './api.ts';

/** WCAG relative luminance of `#rgb` / `#rrggbb`, or null for anything else. */
export function luminance(hex: string): number | null {
  const short = /^#?([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(hex.trim());
  const m = short ? [null, short.slice(1).map((c) => c + c).join('')] : /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) return null;
  const n = parseInt(m[1]!, 16);
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
}

/** WCAG contrast ratio of two colours (1 to 21), or 0 when either is not a hex colour. */
export function contrast(a: string, b: string): number {
  const la = luminance(a);
  const lb = luminance(b);
  if (la === null || lb === null) return 0;
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** Readable text on a colour: black or white, whichever contrasts more. */
export function onColour(hex: string): string {
  const L = luminance(hex);
  if (L === null) return '#ffffff';
  return (L + 0.05) / 0.05 > 1.05 / (L + 0.05) ? '#000000' : '#ffffff';
}

/** The dark palette's own background and surface (styles.css, :root[data-mode='dark']). */
const DARK = { bg: '#0f1115', surface: '#181b21' } as const;
/** WCAG AA for normal text: links and buttons in the primary colour are text. */
const AA = 4.5;

/**
 * In dark mode a tenant's colours are kept only where they stay legible: its colours are usually chosen for a
 * light page (the defaults are white and near-black), and a white background or a dark blue link on the dark
 * palette would fail contrast. A background is kept when it is dark; text and primary when they contrast
 * enough with the background (and the surfaces) they sit on. Light mode applies the colours as given.
 */
export function darkModeColours(b: Pick<Branding, 'primaryColor' | 'backgroundColor' | 'textColor'>): {
  bg: string | null;
  text: string | null;
  primary: string | null;
} {
  const bgIn = safeColour(b.backgroundColor);
  const bg = bgIn && (luminance(bgIn) ?? 1) < 0.05 ? bgIn : null;
  const under = [bg ?? DARK.bg, DARK.surface];
  const legible = (c: string | null): string | null => (c && under.every((u) => contrast(c, u) >= AA) ? c : null);
  return { bg, text: legible(safeColour(b.textColor)), primary: legible(safeColour(b.primaryColor)) };
}

/** Before any tenant theme is known (the sign-in page, the portal loading): follow the system's light or dark. */
export function applySystemMode(): void {
  const root = document.documentElement;
  if (!root.dataset.mode) root.dataset.mode = matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

const safeColour = (s: string | null | undefined): string | null => (s && /^#[0-9a-f]{3,8}$|^[a-z]+$|^rgb\(/i.test(s.trim()) ? s.trim() : null);
const safeFont = (s: string | null | undefined): string | null => (s && /^[\w\s,'"-]+$/.test(s) ? s : null);

/** Applies a tenant's branding as CSS variables on <html>: nothing is rebuilt. */
export function applyTheme(b: Branding | null | undefined): void {
  const root = document.documentElement;
  if (!b) return;
  const mode = b.mode === 'dark' || b.mode === 'light' ? b.mode : matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  root.dataset.mode = mode;
  const set = (name: string, v: string | null) => (v ? root.style.setProperty(name, v) : root.style.removeProperty(name));
  const colours =
    mode === 'dark' ? darkModeColours(b) : { bg: safeColour(b.backgroundColor), text: safeColour(b.textColor), primary: safeColour(b.primaryColor) };
  const primary = colours.primary;
  set('--primary', primary);
  set('--on-primary', primary && luminance(primary) !== null ? onColour(primary) : null);
  set('--bg', colours.bg);
  set('--text', colours.text);
  const font = safeFont(b.fontFamily);
  set('--font', font ? `${font}, system-ui, sans-serif` : null);
  const r = typeof b.radius === 'number' ? `${b.radius}px` : typeof b.radius === 'string' && /^\d+(\.\d+)?(px|rem|em)?$/.test(b.radius) ? (/\d$/.test(b.radius) ? `${b.radius}px` : b.radius) : null;
  set('--radius', r);
  const meta = document.querySelector('meta[name="theme-color"]');
  if (meta && primary) meta.setAttribute('content', primary);
}
