import { derived, get, writable } from 'svelte/store';
import { LOCALES, pickLocale, translate, type Locale, type Params } from '../i18n';
import { formatBytes } from '../lib/attachments';
import { MAX_ATTACHMENTS } from '../lib/protocol';

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
  return errorIn(get(locale), code, ref);
}

function errorIn(l: Locale, code: string, ref?: string): string {
  const key = 'error.' + code;
  const s = translate(l, key, { ref: ref ?? '' });
  return s === key ? translate(l, 'error.unknown', { code }) : s;
}

/**
 * fileErrorText puts the error code of an upload (see UPLOAD_ERRORS) into
 * words, files.error.<code>, with the file's name and the largest file the
 * host takes; any other code gets errorText's words (with ref). l is the
 * language: a component passes $locale, so that its words follow a change.
 */
export function fileErrorText(code: string, about: { name?: string; maxFile?: number; ref?: string } = {}, l: Locale = get(locale)): string {
  const key = 'files.error.' + code;
  const s = translate(l, key, { name: about.name ?? '', max: formatBytes(about.maxFile ?? 0, l), n: MAX_ATTACHMENTS });
  return s === key ? errorIn(l, code, about.ref) : s;
}

locale.subscribe((l) => {
  if (typeof document !== 'undefined') document.documentElement.lang = l;
});
