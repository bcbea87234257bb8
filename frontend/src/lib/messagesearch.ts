// The message search asked last and its answer (the state's search), and the
// message to bring into view, a search result opened (the state's focus),
// with the older history it needs. What is checked before asking, how an
// answer is read and how much history to ask for are search.ts's.

import type { Connection } from './connection';
import { oldestSeq, takeOlder } from './history';
import type { HistoryAnswer, SearchResults } from './protocol';
import { inRoom, type Room, type Rooms } from './rooms';
import { checkQuery, historyRequest, searchHits } from './search';
import type { Session } from './session';
import type { Focus, SearchState } from './types';

/** Errors without a ref that answer a search of ours. */
const SEARCH_REFUSALS: ReadonlySet<string> = new Set(['bad_query', 'search_off', 'rate_limited', 'internal']);

export interface MessageSearchDeps {
  rooms: Rooms;
  /** the limits (does the host search?), and which messages are ours */
  session: Session;
  conn: Pick<Connection, 'online' | 'transmit'>;
  changed(): void;
}

export class MessageSearch {
  /** the message search asked last */
  latest?: SearchState;
  /** the message to bring into view */
  focus?: Focus;

  constructor(private readonly deps: MessageSearchDeps) {}

  /** ask asks the host for the messages with every word of query (see LanchatClient.search); it returns why it could not. */
  ask(query: string): string | undefined {
    const { session, conn } = this.deps;
    const q = query.trim();
    const bad = checkQuery(q) ?? (session.limits && !session.limits.search ? 'search_off' : undefined) ?? (conn.online ? undefined : 'offline');
    this.latest = { query: q, pending: !bad, results: [], more: false, error: bad };
    if (!bad) conn.transmit({ type: 'search', query: q });
    this.deps.changed();
    return bad;
  }

  /** clear ends the message search: its answer, if it comes, is dropped. */
  clear(): void {
    if (!this.latest) return;
    this.latest = undefined;
    this.deps.changed();
  }

  /** answered takes the host's search results: only those for the query asked last. */
  answered(f: SearchResults): void {
    if (!this.latest || this.latest.query !== f.query) return;
    this.latest = { query: f.query, pending: false, results: searchHits(f.results), more: !!f.more };
    this.deps.changed();
  }

  /** refused takes an error without a ref: when it is a search refusal and our search waits, that is its answer. */
  refused(code: string): void {
    if (!this.latest?.pending || !SEARCH_REFUSALS.has(code)) return;
    this.latest = { ...this.latest, pending: false, error: code };
    this.deps.changed();
  }

  /** show makes message seq of a room the one to bring into view, and asks for the older history it needs. */
  show(r: Room, seq: number): void {
    this.focus = { room: r.key, seq };
    this.loadFocus(r);
    this.deps.changed();
  }

  /** focused: the view showed the focused message (or gave up on it). */
  focused(): void {
    if (!this.focus) return;
    this.focus = undefined;
    this.deps.changed();
  }

  /** loadFocus asks for the older history the focused message needs, when it is in this room and not shown yet. */
  loadFocus(r: Room): void {
    const f = this.focus;
    if (!f || f.room !== r.key || !inRoom(r) || !this.deps.conn.online || r.loadingOlder !== undefined) return;
    const ask = historyRequest(oldestSeq(r) ?? r.lastSeq + 1, f.seq, r.firstKept);
    if (!ask) return;
    r.loadingOlder = ask.before;
    this.deps.conn.transmit({ type: 'history', room: r.name, before: ask.before, limit: ask.limit });
  }

  /** older takes older messages in; if the focused message needs more still, it asks again. */
  older(h: HistoryAnswer): void {
    const { rooms, session } = this.deps;
    const r = rooms.find(h.room);
    if (!r || r.loadingOlder === undefined || r.loadingOlder !== h.before) return;
    r.loadingOlder = undefined;
    if (typeof h.first_kept === 'number') r.firstKept = h.first_kept;
    const added = takeOlder(r, Array.isArray(h.messages) ? h.messages : [], session.mine);
    rooms.older(r, added);
    if (added.length) this.loadFocus(r);
    else this.deps.changed();
  }
}
