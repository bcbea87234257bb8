// Names as a teacher compares them: the member list's search box, and the
// class list (roster) a host pastes to see who of the class has not come yet.
// "João Silva", "joao  silva" and "JOÃO SILVA" are the same name here.

/** The most names a class list keeps, and the longest name (the host's own limit, docs/protocol.md). */
export const ROSTER_MAX = 500;
const NAME_MAX = 32;

/**
 * foldName is the form names are compared in: without accents (ã, é, ç),
 * in lower case, with the spaces between words collapsed to one.
 */
export function foldName(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLocaleLowerCase('en')
    .replace(/\s+/g, ' ')
    .trim();
}

/** nameMatches: name contains query, accents and case aside; an empty query matches everyone. */
export function nameMatches(name: string, query: string): boolean {
  const q = foldName(query);
  return !q || foldName(name).includes(q);
}

/**
 * parseRoster reads pasted text, one name per line: lines trimmed (a leading
 * number or bullet as in "1. Ana", "12 Ana", "- Ana" dropped), empty lines and repeats
 * (accents and case aside) skipped, names cut to the host's limit of 32
 * characters, at most ROSTER_MAX names, in the order given.
 */
export function parseRoster(text: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const line of text.split(/\r\n|\r|\n/)) {
    let name = line
      .replace(/^\s*(?:\d+[.)]?\s+|[-*•·]\s*)/, '')
      .replace(/\s+/g, ' ')
      .trim();
    name = [...name].slice(0, NAME_MAX).join('').trim();
    const key = foldName(name);
    if (!key || seen.has(key)) continue;
    seen.add(key);
    out.push(name);
    if (out.length >= ROSTER_MAX) break;
  }
  return out;
}

/** What the class list says of the people in a room. */
export interface RosterCheck {
  /** class list names someone in the room answers to, in the list's order */
  here: string[];
  /** class list names no one in the room answers to, in the list's order */
  missing: string[];
}

/** checkRoster matches the class list against the names of the people present, accents and case aside. */
export function checkRoster(roster: readonly string[], present: Iterable<string>): RosterCheck {
  const keys = new Set<string>();
  for (const p of present) keys.add(foldName(p));
  const here: string[] = [];
  const missing: string[] = [];
  for (const name of roster) (keys.has(foldName(name)) ? here : missing).push(name);
  return { here, missing };
}
