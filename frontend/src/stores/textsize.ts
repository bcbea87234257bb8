import { writable } from 'svelte/store';
import { applyTextSize, savedTextSize, saveTextSize, type TextSize } from '../lib/textsize';
import { localStore } from '../lib/storage';

/** textSize is the chosen text size, read from this device at start. */
export const textSize = writable<TextSize>(savedTextSize(localStore()));

/** setTextSize applies s at once and remembers it. */
export function setTextSize(s: TextSize): void {
  saveTextSize(localStore(), s);
  textSize.set(s);
}

textSize.subscribe((s) => {
  if (typeof document !== 'undefined') applyTextSize(document.documentElement, s);
});
