// Text size, for the projector and for tired eyes: Normal, Large or
// Presentation, chosen next to the language and remembered on this device.
// It sets the root font size (app.css, :root[data-text-size]), so everything
// sized in em or rem follows at once. The Ctrl zoom (zoom.ts) scales the
// whole page on top of it: the two multiply.

/** The text sizes, smallest first. */
export const TEXT_SIZES = ['normal', 'large', 'presentation'] as const;
export type TextSize = (typeof TEXT_SIZES)[number];

/** TEXT_SCALE is how much larger than Normal each size is (app.css uses the same numbers). */
export const TEXT_SCALE: Readonly<Record<TextSize, number>> = { normal: 1, large: 1.25, presentation: 1.6 };

const KEY = 'lanchat.textSize';

export function isTextSize(s: unknown): s is TextSize {
  return typeof s === 'string' && (TEXT_SIZES as readonly string[]).includes(s);
}

/** savedTextSize is the remembered size ('normal' when none, or not a size). */
export function savedTextSize(storage: Pick<Storage, 'getItem'> | undefined): TextSize {
  let s: string | null | undefined;
  try {
    s = storage?.getItem(KEY);
  } catch {
    s = undefined;
  }
  return isTextSize(s) ? s : 'normal';
}

/** saveTextSize remembers s; a storage that is full or blocked forgets it. */
export function saveTextSize(storage: Pick<Storage, 'setItem'> | undefined, s: TextSize): void {
  try {
    storage?.setItem(KEY, s);
  } catch {
    /* not remembered */
  }
}

/** applyTextSize shows s on root: app.css sets the root font size from data-text-size. */
export function applyTextSize(root: HTMLElement, s: TextSize): void {
  if (s === 'normal') delete root.dataset.textSize;
  else root.dataset.textSize = s;
}
