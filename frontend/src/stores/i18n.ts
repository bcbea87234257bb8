import { derived, get, writable } from 'svelte/store';
import { LOCALES, pickLocale, translate, type Locale, type Params } from '../i18n';

function initial(): Locale {
  const nav = typeof navigator !== 'undefined' ? navigator.languages ?? [navigator.language] : [];
  return pickLocale(nav);
}

export const locale = writable<Locale>(initial());

/** setLocale switches the language; an unknown value picks from the OS/browser. */
export function setLocale(l: string | undefined): void {
  if (l && (LOCALES as readonly string[]).includes(l)) locale.set(l as Locale);
  else locale.set(initial());
}

export const t = derived(locale, (l) => (key: string, params?: Params) => translate(l, key, params));

/** tr translates outside components. */
export function tr(key: string, params?: Params): string {
  return translate(get(locale), key, params);
}

/** errorText puts a protocol error code into words; unknown codes get a generic sentence. */
export function errorText(code: string, ref?: string): string {
  const l = get(locale);
  const key = 'error.' + code;
  const s = translate(l, key, { ref: ref ?? '' });
  return s === key ? translate(l, 'error.unknown', { code }) : s;
}

locale.subscribe((l) => {
  if (typeof document !== 'undefined') document.documentElement.lang = l;
});
