// Rooms: what the client knows of each room, where it is with it (an explicit
// state and its transitions), the member list and presence, the rooms list,
// typing hints, and the views the UI reads. Every change goes through touch,
// which drops the room's cached view and tells the client something changed.

import { randomId } from './clock';
import { applyEvent } from './conversation';
import { fillHistory, insert, mergeHistory, mergeOlder } from './history';
import {
  LOBBY,
  isPrivate,
  roomKey,
  type Joined,
  type Member,
  type MembersList,
  type Message,
  type Presence,
  type PresenceChange,
  type RoomInfo,
} from './protocol';
import type { Clock, Entry, MemberSearch, MessageEntry, NoticeEntry, RoomView } from './types';

/**
 * Where the client is with a room. One state at a time, so that "joining and
 * gone at once" cannot be written down:
 *
 * - idle: not in it, and no join on its way
 * - joining: a join is on its way (sent, or coming by itself: the lobby, and
 *   the rooms named in hello.resume)
 * - joined: in it, the host confirmed
 * - resyncing: in it, and a re-join with since is on its way (a gap in the
 *   seqs, or the host's history started over); what is sent waits for it
 * - gone: the host said the room does not exist, or closed it
 *
 * The transitions, one method of Rooms each (callers need not check the
 * state first: from any other state a transition does nothing):
 *
 *     toJoining    idle, joining, joined, resyncing -> joining
 *                  (a join sent or expected; from joined or resyncing: the
 *                  host says we are not in after all)
 *     toJoined     any -> joined           (the host's joined frame)
 *     toResyncing  joined -> resyncing     (says whether it moved)
 *     toIdle       joining, joined, resyncing -> idle
 *                  (the host said left; disconnected does it to all rooms)
 *     joinRefused  joining -> idle         (an error names the room)
 *     revive       gone -> idle            (the user asks for it again)
 *     toGone       any -> gone             (the room does not exist, or was closed)
 */
export type RoomState = 'idle' | 'joining' | 'joined' | 'resyncing' | 'gone';

/** What a notice may say besides its event. */
type NoticeExtra = Partial<Pick<NoticeEntry, 'detail' | 'member' | 'members' | 'ts'>>;

export interface Room {
  key: string;
  name: string;
  state: RoomState;
  /** the client wants to be in the room: it joins it after each welcome (never while gone) */
  wanted: boolean;
  /** joined at least once on some connection: the resume can name it */
  known: boolean;
  /** in the host's rooms list */
  listed: boolean;
  /** the room's member count: from the rooms list, joined, presence and members frames */
  count: number;
  /**
   * a large room (joined or presence said partial): members holds only the
   * hosts, co-hosts and us, and the count says the rest; a complete members
   * frame makes it small again
   */
  large: boolean;
  /** the latest member search (the query asked last, and its answer once it came) */
  search?: MemberSearch;
  topic?: string;
  locked?: boolean;
  announcements?: boolean;
  /** slow mode: guests post at most once per this many seconds (0: off) */
  slowSeconds: number;
  /** the message pinned at the top of the room (joined and pinned frames) */
  pinned?: Message;
  members: Member[];
  /** a private conversation: the other person's name, as last seen in it */
  withName?: string;
  /**
   * who was in the room when our connection dropped (names, lower case), and
   * until when after we are back their coming back is not announced: a host
   * restart that brings everyone back is not a wave of "joined" lines
   */
  away?: { names: Set<string>; until: number };
  entries: Entry[];
  lastSeq: number;
  /** ordering counter: bumped on each reset, so messages numbered afresh sort after older ones */
  epoch: number;
  /**
   * the id of the host's history database this room's seqs belong to (joined.epoch);
   * unset until a host that sends one answers a join
   */
  historyEpoch?: string;
  bySeq: Map<number, string>;
  ids: Set<string>;
  /** the oldest seq the host keeps in the room (joined.first_kept, history.first_kept) */
  firstKept?: number;
  /** a history query is on its way: its before */
  loadingOlder?: number;
  /** events whose message we do not have (older than our window), by its seq: they act on it when it comes */
  orphans: Map<number, Message[]>;
  unread: number;
  mentions: number;
  typing: Map<string, { member: Member; until: number }>;
  lastTypingSent: number;
  view?: RoomView;
}

/** after we are back from a drop, how long the members who were in a room and come back too are not announced */
export const BACK_QUIET_MS = 60_000;

/** inRoom: the host has us in the room (resyncing too: a re-join does not take us out). */
export function inRoom(r: Room): boolean {
  return r.state === 'joined' || r.state === 'resyncing';
}

/** awaitingJoin: a join or re-join is on its way; its joined frame will come. */
export function awaitingJoin(r: Room): boolean {
  return r.state === 'joining' || r.state === 'resyncing';
}

function newRoom(key: string, name: string): Room {
  return {
    key,
    name,
    state: 'idle',
    wanted: false,
    known: false,
    listed: false,
    count: 0,
    large: false,
    slowSeconds: 0,
    members: [],
    entries: [],
    lastSeq: 0,
    epoch: 0,
    bySeq: new Map(),
    ids: new Set(),
    orphans: new Map(),
    unread: 0,
    mentions: 0,
    typing: new Map(),
    lastTypingSent: -Infinity,
  };
}

export class Rooms {
  private readonly byKey = new Map<string, Room>();
  /** the order rooms show in: the lobby, the host's list, then the rest as they came */
  private order: string[] = [LOBBY];

  constructor(
    private readonly clock: Clock,
    private readonly changed: () => void,
  ) {}

  get(key: string): Room | undefined {
    return this.byKey.get(key);
  }

  /** find looks a room up by name, in any spelling. */
  find(name: string): Room | undefined {
    return this.byKey.get(roomKey(name));
  }

  values(): IterableIterator<Room> {
    return this.byKey.values();
  }

  /** room returns the room of that name, made if new; display, when given, is the host's spelling. */
  room(name: string, display?: string): Room {
    const key = roomKey(name);
    let r = this.byKey.get(key);
    if (!r) {
      r = newRoom(key, display ?? name.trim());
      this.byKey.set(key, r);
      if (!this.order.includes(key)) this.order.push(key);
      this.changed();
    } else if (display) {
      r.name = display;
    }
    return r;
  }

  touch(r: Room): void {
    r.view = undefined;
    this.changed();
  }

  // ---- state transitions ------------------------------------------------

  private move(r: Room, to: RoomState): void {
    r.state = to;
    this.touch(r);
  }

  /** toJoining: a join is on its way (not for a gone room: revive it first). From joined or resyncing: the host says we are not in after all. */
  toJoining(r: Room): void {
    if (r.state !== 'gone') this.move(r, 'joining');
  }

  /** toJoined: the host's joined frame, from any state. The host may join us by itself (a private conversation): the room is wanted from now on. */
  toJoined(r: Room): void {
    r.wanted = true;
    this.move(r, 'joined');
  }

  /** toResyncing: only from joined; it says whether the room moved (the caller then sends the re-join). */
  toResyncing(r: Room): boolean {
    if (r.state !== 'joined') return false;
    this.move(r, 'resyncing');
    return true;
  }

  /** toIdle: out of the room with nothing on its way, and no one typing there. A gone room stays gone. */
  toIdle(r: Room): void {
    r.typing.clear();
    if (r.state !== 'gone') r.state = 'idle';
    this.touch(r);
  }

  /** joinRefused: the host answered a join with an error naming the room. Only a joining room moves; an error about a room we are in changes nothing. */
  joinRefused(r: Room): void {
    if (r.state === 'joining') this.move(r, 'idle');
  }

  /** revive: the user asks for a gone room again. */
  revive(r: Room): void {
    if (r.state === 'gone') this.move(r, 'idle');
  }

  /** toGone: the room does not exist (anymore), from any state: not in it, and not wanted. */
  toGone(r: Room): void {
    r.wanted = false;
    r.typing.clear();
    this.move(r, 'gone');
  }

  /** disconnected: the connection is gone, and with it every room we were in or joining, and every typing hint. */
  disconnected(): void {
    for (const r of this.byKey.values()) {
      r.loadingOlder = undefined; // its answer will not come
      if (inRoom(r) && r.members.length) r.away = { names: new Set(r.members.map((m) => m.name.toLowerCase())), until: 0 };
      if (r.state === 'joining' || inRoom(r) || r.typing.size) this.toIdle(r);
    }
  }

  /** reset forgets a room's seq bookkeeping: the host's history started over. */
  reset(r: Room): void {
    r.epoch++;
    r.lastSeq = 0;
    r.bySeq.clear();
    r.orphans.clear();
    r.historyEpoch = undefined;
    r.firstKept = r.loadingOlder = undefined;
    this.touch(r);
  }

  // ---- entries ----------------------------------------------------------

  push(r: Room, ...entries: Entry[]): void {
    r.entries = [...r.entries, ...entries];
    this.touch(r);
  }

  /** noticeEntry makes a notice for a room (now, unless extra says when). */
  noticeEntry(r: Room, event: NoticeEntry['event'], extra?: NoticeExtra): NoticeEntry {
    return { kind: 'notice', key: randomId('n-', this.clock), room: r.name, event, ts: this.clock.now(), ...extra };
  }

  /** notice adds a notice to a room. */
  notice(r: Room, event: NoticeEntry['event'], extra?: NoticeExtra): void {
    this.push(r, this.noticeEntry(r, event, extra));
  }

  /** replace changes the message entry of that key (the last one, should there be two). */
  replace(r: Room, key: string, fn: (e: MessageEntry) => MessageEntry): void {
    for (let i = r.entries.length - 1; i >= 0; i--) {
      const e = r.entries[i];
      if (e.key === key && e.kind === 'message') {
        const next = r.entries.slice();
        next[i] = fn(e);
        r.entries = next;
        this.touch(r);
        return;
      }
    }
  }

  remove(r: Room, key: string): void {
    r.entries = r.entries.filter((e) => e.key !== key);
    this.touch(r);
  }

  /** insert puts a live message in seq order. */
  insert(r: Room, m: MessageEntry): void {
    r.entries = insert(r.entries, m);
    this.touch(r);
  }

  /** older puts older messages (a history answer) above what the room shows. */
  older(r: Room, added: MessageEntry[]): void {
    if (!added.length) return;
    r.entries = mergeOlder(r.entries, added);
    this.touch(r);
  }

  /** merge takes a history batch in with one assignment of the entries (see mergeHistory). */
  merge(r: Room, added: MessageEntry[], patches: Map<string, Partial<MessageEntry>>): void {
    if (!added.length && !patches.size) return;
    r.entries = mergeHistory(r.entries, added, patches);
    this.touch(r);
  }

  /** fill puts older entries (fetched to show a reply's original) in seq order. */
  fill(r: Room, filled: MessageEntry[]): void {
    if (!filled.length) return;
    r.entries = fillHistory(r.entries, filled);
    this.touch(r);
  }

  /**
   * applyEvent lets an event act on the entry it names (by seq); when we do
   * not have that entry (older than our window) the event waits for it.
   */
  applyEvent(r: Room, ev: Message): void {
    if (typeof ev.target !== 'number') return;
    const key = r.bySeq.get(ev.target);
    const i = key ? r.entries.findIndex((e) => e.key === key && e.kind === 'message') : -1;
    if (i < 0) {
      const list = r.orphans.get(ev.target) ?? [];
      list.push(ev);
      r.orphans.set(ev.target, list);
      return;
    }
    const e = r.entries[i] as MessageEntry;
    const next = applyEvent(e, ev);
    if (next === e) return;
    const entries = r.entries.slice();
    entries[i] = next;
    r.entries = entries;
    this.touch(r);
  }

  // ---- what the host tells about rooms ----------------------------------

  /** rename moves a room to its new name and key; a room we only knew by the new name gives way. */
  rename(r: Room, to: string): void {
    const oldKey = r.key;
    const newKey = roomKey(to);
    if (oldKey !== newKey) {
      this.byKey.delete(oldKey);
      if (this.byKey.delete(newKey)) this.order = this.order.filter((k) => k !== newKey);
      r.key = newKey;
      this.byKey.set(newKey, r);
      this.order = this.order.map((k) => (k === oldKey ? newKey : k));
    }
    r.name = to;
    r.entries = r.entries.map((e) => ({ ...e, room: to }));
    this.notice(r, 'renamed', { detail: to });
  }

  /** list takes the host's rooms list: counts, topics, settings, and the order. */
  list(list: RoomInfo[]): void {
    const seen = new Set<string>();
    for (const info of list) {
      const r = this.room(info.name, info.name);
      seen.add(r.key);
      const before = { listed: r.listed, locked: !!r.locked, slow: r.slowSeconds };
      r.name = info.name;
      r.count = info.members;
      r.topic = info.topic;
      r.locked = info.locked;
      r.announcements = info.announcements;
      r.slowSeconds = info.slow_seconds ?? 0;
      r.listed = true;
      // the host locked or unlocked the room, or changed slow mode: said in the room, where it matters
      if (before.listed && inRoom(r)) {
        if (!!r.locked !== before.locked) this.notice(r, r.locked ? 'locked' : 'unlocked');
        if (r.slowSeconds !== before.slow) this.notice(r, r.slowSeconds ? 'slow' : 'slowOff', { detail: String(r.slowSeconds) });
      }
      this.touch(r);
    }
    for (const r of this.byKey.values()) {
      if (!seen.has(r.key) && r.listed) {
        r.listed = false;
        this.touch(r);
      }
    }
    const listed = list.map((i) => roomKey(i.name));
    const rest = this.order.filter((k) => !seen.has(k));
    this.order = [...new Set([LOBBY, ...listed, ...rest])];
    this.changed();
  }

  /** notePeer remembers, in a private conversation, who the other person is (the member who is not us). */
  private notePeer(r: Room, meId: string | undefined): void {
    if (!isPrivate(r.name)) return;
    const other = r.members.find((m) => m.id !== meId);
    if (other) r.withName = other.name;
  }

  /** joined takes a joined frame's member list, count and size (partial: a large room). */
  joined(r: Room, j: Joined, meId?: string): void {
    // back after a drop: for a while, those who were here and come back too are not announced
    if (r.away && !r.away.until) r.away.until = this.clock.now() + BACK_QUIET_MS;
    r.members = j.members ?? [];
    this.notePeer(r, meId);
    r.count = typeof j.count === 'number' ? j.count : r.members.length;
    r.large = !!j.partial;
    if (!r.large) r.search = undefined;
    r.pinned = j.pinned && typeof j.pinned === 'object' ? j.pinned : undefined;
    this.touch(r);
  }

  /** pin takes what is pinned at the top of the room now (undefined: nothing). */
  pin(r: Room, m: Message | undefined): void {
    r.pinned = m && typeof m === 'object' ? m : undefined;
    this.touch(r);
  }

  /**
   * membersList takes a members frame. A partial one answers a search: it is
   * kept as the room's search result, never merged into the member list, and
   * only when it answers the query asked last (it reports whether it did). A
   * complete one (partial false) is the room's whole list: it replaces the
   * list, and the room is small again.
   */
  membersList(r: Room, f: MembersList): boolean {
    if (f.partial) {
      if (!r.search || r.search.query !== (f.query ?? '')) return false;
      r.search = { ...r.search, members: f.members ?? [], count: f.count ?? r.count, pending: false };
      if (typeof f.count === 'number') r.count = f.count;
      this.touch(r);
      return true;
    }
    r.members = f.members ?? [];
    r.count = typeof f.count === 'number' ? f.count : r.members.length;
    r.large = false;
    r.search = undefined;
    this.touch(r);
    return true;
  }

  /** search records the query asked last (undefined: none; answers to earlier ones are dropped from now on). */
  search(r: Room, query: string | undefined, limit = 50): void {
    if (query === undefined) {
      if (!r.search) return;
      r.search = undefined;
    } else {
      // asked again (a re-join): the last answer stays until the new one comes
      const same = r.search?.query === query;
      r.search = { query, limit, members: same ? (r.search?.members ?? []) : [], count: r.search?.count ?? r.count, pending: true };
    }
    this.touch(r);
  }

  /**
   * presence applies a presence frame's changes in order, with one notice per
   * kind of change (a burst of 30 joins is one line, not 30), and takes its
   * count and size. A large room's frame (partial) holds only hosts' and
   * co-hosts' changes, often none: the count is the news, and no line shows.
   * formerIds are our own earlier member ids (see LanchatClient): their
   * changes are the ghost of us on a box we failed over from, neither listed
   * nor announced.
   */
  presence(r: Room, p: Presence, meId: string | undefined, formerIds?: ReadonlySet<string>): void {
    const ts = p.ts || this.clock.now();
    const byEvent = new Map<PresenceChange['event'], Member[]>();
    let members = r.members;
    for (const { event, member } of p.changes ?? []) {
      // us under an id we had on a box we failed over from: not listed, not announced
      if (formerIds?.has(member.id)) {
        members = members.filter((m) => m.id !== member.id);
        continue;
      }
      if (event === 'joined') {
        if (!members.some((m) => m.id === member.id)) members = [...members, member];
      } else {
        members = members.filter((m) => m.id !== member.id);
        r.typing.delete(member.id);
      }
      if (member.id === meId) continue;
      if (event === 'joined' && r.away && this.clock.now() < r.away.until && r.away.names.delete(member.name.toLowerCase())) continue;
      const list = byEvent.get(event) ?? [];
      list.push(member);
      byEvent.set(event, list);
    }
    const wasLarge = r.large;
    r.large = !!p.partial;
    if (r.large && !wasLarge) {
      // The room grew large: from now on guests' changes go untold, so the
      // guests we know of would linger. Keep whom a large room lists.
      members = members.filter((m) => m.id === meId || m.role === 'host' || m.role === 'cohost');
    }
    if (!r.large) r.search = undefined;
    r.members = members;
    this.notePeer(r, meId);
    r.count = typeof p.count === 'number' ? p.count : r.large ? r.count : members.length;
    const notices: NoticeEntry[] = [];
    for (const [event, list] of byEvent) {
      notices.push(this.noticeEntry(r, event, list.length > 1 ? { member: list[0], members: list, ts } : { member: list[0], ts }));
    }
    if (notices.length) r.entries = [...r.entries, ...notices];
    this.touch(r);
  }

  /** member takes a member frame: the whole member, so an absent muted or role means none. */
  member(m: Member): void {
    for (const r of this.byKey.values()) {
      if (r.members.some((x) => x.id === m.id)) {
        r.members = r.members.map((x) => (x.id === m.id ? { ...m } : x));
        this.touch(r);
      }
      if (r.search?.members.some((x) => x.id === m.id)) {
        r.search = { ...r.search, members: r.search.members.map((x) => (x.id === m.id ? { ...m } : x)) };
        this.touch(r);
      }
    }
    this.changed();
  }

  /** typing shows that a member is typing, for ms. */
  typing(r: Room, member: Member, ms: number): void {
    r.typing.set(member.id, { member, until: this.clock.now() + ms });
    this.touch(r);
    this.clock.setTimeout(() => this.pruneTyping(r), ms + 10);
  }

  private pruneTyping(r: Room): void {
    const now = this.clock.now();
    let changed = false;
    for (const [id, t] of r.typing) {
      if (t.until <= now) {
        r.typing.delete(id);
        changed = true;
      }
    }
    if (changed) this.touch(r);
  }

  // ---- views ------------------------------------------------------------

  /** views gives each room's view, in order; a room's view is made again only after it changed. */
  views(): RoomView[] {
    const out: RoomView[] = [];
    for (const key of this.order) {
      const r = this.byKey.get(key);
      if (!r) continue;
      r.view ??= {
        key: r.key,
        name: r.name,
        joined: inRoom(r),
        wanted: r.wanted,
        gone: r.state === 'gone',
        count: r.count,
        large: r.large,
        search: r.search,
        topic: r.topic,
        locked: r.locked,
        announcements: r.announcements,
        slowSeconds: r.slowSeconds,
        pinned: r.pinned,
        private: isPrivate(r.name),
        with: r.withName,
        listed: r.listed,
        members: r.members,
        entries: r.entries,
        lastSeq: r.lastSeq,
        unread: r.unread,
        mentions: r.mentions,
        typing: [...r.typing.values()].map((t) => t.member),
      };
      out.push(r.view);
    }
    return out;
  }
}
