// Translations: English and Brazilian Portuguese. Keys are flat, dotted
// names; "{name}" in a string is replaced by the parameter of that name.
// A key ending in ".one"/".other" is a plural pair chosen by the "n" parameter.

import { en } from './en';
import { ptBR } from './pt-BR';

export type Key = keyof typeof en;
export type Locale = 'en' | 'pt-BR';
export const LOCALES: readonly Locale[] = ['en', 'pt-BR'];
export const dictionaries: Record<Locale, Record<string, string>> = { en, 'pt-BR': ptBR };

/** pickLocale chooses a supported locale from preferences such as navigator.languages. */
export function pickLocale(prefs: readonly (string | undefined | null)[]): Locale {
  for (const p of prefs) {
    if (!p) continue;
    const l = p.toLowerCase();
    if (l.startsWith('pt')) return 'pt-BR';
    if (l.startsWith('en')) return 'en';
  }
  return 'en';
}

export type Params = Record<string, string | number>;

export function translate(locale: Locale, key: string, params?: Params): string {
  const dict = dictionaries[locale] ?? en;
  let s: string | undefined;
  if (params && typeof params.n === 'number' && (dict[key + '.one'] !== undefined || dict[key + '.other'] !== undefined)) {
    // zero reads as plural in both languages ("0 pessoas"), whatever CLDR says for pt
    const form = params.n !== 0 && new Intl.PluralRules(locale).select(params.n) === 'one' ? '.one' : '.other';
    s = dict[key + form] ?? (en as Record<string, string>)[key + form];
  }
  s ??= dict[key] ?? (en as Record<string, string>)[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
  return s;
}
