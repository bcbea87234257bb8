// Message search (docs/protocol.md, "search"): what the client checks
// before asking, how it reads an answer, and how much older history it asks
// for to show a message a search found.

import { isPrivate, type Member, type SearchHit, type SnippetPart } from './protocol';
import type { RoomView } from './types';

/** The longest query the host takes, in characters. */
export const SEARCH_MAX = 100;
/** The most messages one history query brings (the host's cap). */
export const HISTORY_MAX = 500;
/** How many messages before a found one are loaded with it, to show what it answered. */
export const CONTEXT_BEFORE = 10;

/** checkQuery says why a query cannot be asked ('bad_query': blank or too long), or nothing. */
export function checkQuery(q: string): 'bad_query' | undefined {
  const t = q.trim();
  if (!t || [...t].length > SEARCH_MAX) return 'bad_query';
  return undefined;
}

/** snippetParts keeps the well-formed parts of a snippet: text, and whether it matched. */
export function snippetParts(parts: unknown): SnippetPart[] {
  if (!Array.isArray(parts)) return [];
  const out: SnippetPart[] = [];
  for (const p of parts) {
    if (p && typeof p === 'object' && typeof (p as SnippetPart).text === 'string') {
      out.push({ text: (p as SnippetPart).text, match: (p as SnippetPart).match === true });
    }
  }
  return out;
}

/** searchHits keeps the well-formed results of a search_results frame, their snippets cleaned. */
export function searchHits(results: unknown): SearchHit[] {
  if (!Array.isArray(results)) return [];
  const out: SearchHit[] = [];
  for (const r of results) {
    if (!r || typeof r !== 'object') continue;
    const h = r as SearchHit;
    if (typeof h.room !== 'string' || typeof h.seq !== 'number' || h.seq < 1 || typeof h.from?.name !== 'string') continue;
    out.push({ room: h.room, seq: h.seq, id: String(h.id ?? ''), from: h.from, ts: Number(h.ts) || 0, snippet: snippetParts(h.snippet) });
  }
  return out;
}

/**
 * Where a result is, for its label: a room by its name (the lobby: lobby
 * true), or a private conversation with someone (with: their name, when
 * known: the room's other person, or the author when that is not us).
 */
export interface Place {
  room: string;
  lobby: boolean;
  private: boolean;
  with?: string;
}

export function placeOf(hit: SearchHit, rooms: readonly RoomView[], me?: Member): Place {
  const key = hit.room.trim().toLowerCase();
  const view = rooms.find((r) => r.key === key);
  if (!isPrivate(hit.room)) return { room: view?.name ?? hit.room, lobby: key === 'lobby', private: false };
  const other = view?.with ?? (me && hit.from.id !== me.id ? hit.from.name : undefined);
  return { room: hit.room, lobby: false, private: true, with: other };
}

/**
 * historyRequest says which older messages to ask for so that message seq
 * shows with a few before it, when the room shows messages from oldest on
 * and keeps none before firstKept: before and limit of a history query, or
 * nothing when seq is shown already (or cannot be).
 */
export function historyRequest(oldest: number, seq: number, firstKept = 1): { before: number; limit: number } | undefined {
  if (seq >= oldest || oldest <= Math.max(firstKept, 1) || seq < 1) return undefined;
  const from = Math.max(seq - CONTEXT_BEFORE, firstKept, 1);
  return { before: oldest, limit: Math.min(oldest - from, HISTORY_MAX) };
}

/** errorKey is the message key that says why a search failed (an error code, or offline). */
export function errorKey(code: string): string {
  return code === 'offline' || code === 'rate_limited' ? 'search.error.' + code : 'error.' + code;
}
