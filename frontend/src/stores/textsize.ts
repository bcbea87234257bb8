import { writable } from 'svelte/store';
import { applyTextSize, savedTextSize, saveTextSize, type TextSize } from '../lib/textsize';

function ls(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined; // a private window: the size is not remembered
  }
}

/** textSize is the chosen text size, read from this device at start. */
export const textSize = writable<TextSize>(savedTextSize(ls()));

/** setTextSize applies s at once and remembers it. */
export function setTextSize(s: TextSize): void {
  saveTextSize(ls(), s);
  textSize.set(s);
}

textSize.subscribe((s) => {
  if (typeof document !== 'undefined') applyTextSize(document.documentElement, s);
});
