import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../lib/protocol';
import { dictionaries, LOCALES, pickLocale, translate } from './index';

const here = new URL('.', import.meta.url).pathname;
const srcDir = join(here, '..');
const protocolDoc = join(here, '../../../docs/protocol.md');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|svelte)$/.test(name) && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** docCodes reads the error codes from the table in docs/protocol.md. */
function docCodes(): string[] {
  const doc = readFileSync(protocolDoc, 'utf8');
  const section = doc.split('## Error codes')[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
}

function placeholders(s: string): string[] {
  return [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
}

describe('translations', () => {
  const en = dictionaries.en;

  it.each(LOCALES)('%s has exactly the keys of every other language', (l) => {
    for (const other of LOCALES) {
      const missing = Object.keys(dictionaries[other]).filter((k) => !(k in dictionaries[l]));
      expect(missing, `${l} lacks keys that ${other} has`).toEqual([]);
    }
  });

  it.each(LOCALES)('%s has no empty strings and the same placeholders as English', (l) => {
    for (const [k, v] of Object.entries(dictionaries[l])) {
      expect(v.trim(), `${l}: ${k} is empty`).not.toBe('');
      expect(placeholders(v), `${l}: ${k} placeholders`).toEqual(placeholders(en[k]));
    }
  });

  it('knows the same error codes as docs/protocol.md', () => {
    const codes = docCodes();
    expect(codes.length).toBeGreaterThan(20);
    expect([...ERROR_CODES].sort()).toEqual([...codes].sort());
  });

  it.each(LOCALES)('%s has words for every error code', (l) => {
    const missing = docCodes().filter((c) => !dictionaries[l]['error.' + c]);
    expect(missing).toEqual([]);
  });

  it('has every key the source uses', () => {
    // every quoted string that looks like a key of a known namespace, wherever it stands
    // (in $t('...'), in a conditional, in a table)
    const spaces = new Set(Object.keys(en).map((k) => k.split('.')[0]));
    const used = new Set<string>();
    for (const f of sourceFiles(srcDir)) {
      if (f.includes('/i18n/')) continue;
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/'([a-z]+)\.([a-zA-Z0-9_.-]*[a-zA-Z0-9])'/g)) {
        if (spaces.has(m[1])) used.add(m[1] + '.' + m[2]);
      }
    }
    // keys made from a prefix at run time
    for (const e of ['joined', 'left', 'disconnected', 'removed', 'gap', 'reset', 'gone', 'closed', 'renamed', 'locked', 'unlocked', 'slow', 'slowOff']) used.add('notice.' + e);
    for (const l of LOCALES) used.add('lang.' + l);
    used.delete('notice.');
    used.delete('lang.');
    expect(used.size).toBeGreaterThan(50);
    for (const l of LOCALES) {
      const d = dictionaries[l];
      const missing = [...used].filter((k) => !(k in d) && !(k + '.one' in d && k + '.other' in d));
      expect(missing, `${l} lacks keys used in the source`).toEqual([]);
    }
  });
});

/**
 * literalText lists the words a component writes itself instead of taking
 * them from the catalogues: text between tags and the aria-label, title,
 * placeholder and alt attributes, once scripts, styles, comments and every
 * {expression} are taken out. Symbols (⋯, ×, ↓) are not words.
 */
function literalText(component: string): string[] {
  let t = component
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<!--[\s\S]*?-->/g, '');
  for (let prev = ''; prev !== t; ) {
    prev = t;
    t = t.replace(/\{[^{}]*\}/g, '');
  }
  const words: string[] = [];
  for (const m of t.matchAll(/>([^<>]+)</g)) if (/\p{L}/u.test(m[1])) words.push(m[1].trim());
  for (const m of t.matchAll(/\b(aria-label|title|placeholder|alt)="([^"]*)"/g)) if (/\p{L}/u.test(m[2])) words.push(`${m[1]}="${m[2]}"`);
  return words;
}

describe('components', () => {
  it('finds words written in a component', () => {
    expect(literalText('<script>let a = "x";</script><button title="Close">{a}</button><p>Hello {a}</p><span>⋯</span>{#if a}<em>{$t(\'k\')}</em>{/if}')).toEqual([
      'Hello',
      'title="Close"',
    ]);
  });

  it('write no words of their own: every visible string and label is in both catalogues', () => {
    const components = sourceFiles(srcDir).filter((f) => f.endsWith('.svelte'));
    expect(components.length).toBeGreaterThan(15);
    for (const f of components) expect(literalText(readFileSync(f, 'utf8')), f).toEqual([]);
  });
});

describe('translate', () => {
  it('fills parameters and picks plural forms', () => {
    expect(translate('en', 'rail.members', { n: 1 })).toBe('1 person');
    expect(translate('en', 'rail.members', { n: 3 })).toBe('3 people');
    expect(translate('pt-BR', 'rail.members', { n: 2 })).toBe('2 pessoas');
    expect(translate('pt-BR', 'rail.members', { n: 0 })).toBe('0 pessoas');
    expect(translate('pt-BR', 'rail.members', { n: 1 })).toBe('1 pessoa');
    expect(translate('pt-BR', 'error.no_such_room', { ref: 'sala9' })).toBe('Não existe nenhuma sala chamada “sala9”.');
  });
  it('chooses the language from the locale list', () => {
    expect(pickLocale(['pt-BR', 'en'])).toBe('pt-BR');
    expect(pickLocale(['pt-PT'])).toBe('pt-BR');
    expect(pickLocale(['de-DE', 'en-GB'])).toBe('en');
    expect(pickLocale(['fr'])).toBe('en');
    expect(pickLocale([])).toBe('en');
  });
});
