// Zoom for the projector and for tired eyes: Ctrl + / Ctrl − / Ctrl 0 (⌘ on
// a Mac) scale the whole page, in the desktop app (whose webview has no
// zoom of its own) and in a browser alike, and the level is remembered.

/** The zoom levels, smallest first; 1 is the default size. */
export const ZOOM_LEVELS: readonly number[] = [0.8, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2, 2.5];

const KEY = 'lanchat.zoom';

/** stepZoom is the level one step from z (+1 larger, -1 smaller, 0 back to 1). */
export function stepZoom(z: number, step: -1 | 0 | 1): number {
  if (step === 0) return 1;
  const i = ZOOM_LEVELS.findIndex((l) => l >= z - 1e-9);
  const at = i < 0 ? ZOOM_LEVELS.length - 1 : i;
  const exact = Math.abs(ZOOM_LEVELS[at] - z) < 1e-9;
  const next = step > 0 ? (exact ? at + 1 : at) : at - 1;
  return ZOOM_LEVELS[Math.min(ZOOM_LEVELS.length - 1, Math.max(0, next))];
}

/** zoomStep says what a key press asks of the zoom, or undefined when it is not a zoom key. */
export function zoomStep(e: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey'>): -1 | 0 | 1 | undefined {
  if (!(e.ctrlKey || e.metaKey) || e.altKey) return undefined;
  switch (e.key) {
    case '+':
    case '=':
      return 1;
    case '-':
    case '_':
      return -1;
    case '0':
      return 0;
  }
  return undefined;
}

/** savedZoom is the remembered level (1 when none, or not a level). */
export function savedZoom(storage: Pick<Storage, 'getItem'> | undefined): number {
  const z = Number(storage?.getItem(KEY));
  return ZOOM_LEVELS.includes(z) ? z : 1;
}

/**
 * installZoom applies the remembered level to root and follows the zoom
 * keys from then on; it returns a function that stops following them.
 */
export function installZoom(win: Window, root: HTMLElement, storage: Storage | undefined): () => void {
  let z = savedZoom(storage);
  const apply = () => {
    root.style.setProperty('zoom', z === 1 ? '' : String(z));
    root.dataset.zoom = String(z);
  };
  apply();
  const onKey = (e: KeyboardEvent) => {
    const step = zoomStep(e);
    if (step === undefined) return;
    e.preventDefault();
    z = stepZoom(z, step);
    apply();
    try {
      storage?.setItem(KEY, String(z));
    } catch {
      /* not remembered: storage full or blocked */
    }
  };
  win.addEventListener('keydown', onKey);
  return () => win.removeEventListener('keydown', onKey);
}
