// Dates, grouping and mentions for the message list.

import type { Entry, MessageEntry } from './client';

const GROUP_MS = 5 * 60 * 1000;

/** mentions reports whether text mentions name (as "@name" or the name as a word). */
export function mentions(text: string, name: string | undefined): boolean {
  if (!name) return false;
  const esc = name.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (!esc) return false;
  return new RegExp(`(^|[^\\p{L}\\p{N}_])@?${esc}(?![\\p{L}\\p{N}_])`, 'iu').test(text);
}

/** startsGroup: a message shows its author and time unless it follows the same author's message closely. */
export function startsGroup(entries: readonly Entry[], i: number): boolean {
  const e = entries[i];
  if (e.kind !== 'message') return false;
  const p = entries[i - 1];
  if (!p || p.kind !== 'message') return true;
  return authorKey(p) !== authorKey(e) || e.ts - p.ts > GROUP_MS || e.ts < p.ts;
}

function authorKey(m: MessageEntry): string {
  return m.own ? '\u0000me' : m.from.id || m.from.name;
}

export function formatTime(ts: number, locale: string, now = Date.now()): string {
  const d = new Date(ts);
  const n = new Date(now);
  const sameDay = d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
  const opts: Intl.DateTimeFormatOptions = sameDay
    ? { hour: '2-digit', minute: '2-digit' }
    : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
  return new Intl.DateTimeFormat(locale, opts).format(d);
}
