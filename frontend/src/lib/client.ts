// The lanchat client: one instance per host. It speaks protocol v1
// (docs/protocol.md) over a WebSocket, reconnects with backoff and jitter,
// resumes with the last seq per room, dedupes what it receives, and tracks
// outgoing messages (pending -> sent, or failed) with retries under the same
// client_id. The desktop app and the browser UI both use it.
//
// The parts, one job each:
//
//   connection.ts     the socket, reconnecting (and failing over), the status
//   session.ts        who we are to the host: the hello, what the welcome says
//   frames.ts         what the host sends, each frame to the part it is for
//   rooms.ts          each room's state and its transitions, members,
//                     presence, the views
//   roomsync.ts       joining rooms and keeping their logs in step: the
//                     catch-up, gaps and resyncs, a room's end
//   history.ts        the message merge
//   activeroom.ts     the room the user is looking at, what counts as unread
//   outbox.ts         outgoing messages
//   messagesearch.ts  the message search, and showing a message it found
//   membersearch.ts   sending a large room's member search
//   announcements.ts  the host's announcements
//   types.ts          the public types, re-exported here
//
// This file holds the public API (the state, its listeners and the events
// among them), and makes the parts and wires them up.
//
// Failover to another box of a cluster is connection.ts's; across it the
// member id changes, and our earlier ids (session.ts's formerIds) still
// count as ours.

import { ActiveRoom } from './activeroom';
import { Announcements } from './announcements';
import { browserClock } from './clock';
import { Connection } from './connection';
import { mentions } from './format';
import { FrameHandler } from './frames';
import { MemberSearches } from './membersearch';
import { MessageSearch } from './messagesearch';
import { Outbox } from './outbox';
import { LOBBY, MAX_ATTACHMENTS, roomKey, textError, type ClientFrame, type Control, type Member } from './protocol';
import { inRoom, Rooms, type Room } from './rooms';
import { RoomSync } from './roomsync';
import { Session } from './session';
import type { ClientEvent, ClientOptions, ClientState, Clock, FilesInfo, LocalFile, SocketLike } from './types';

export type * from './types';
export type { RoomState } from './rooms';
export { mentions };

export class LanchatClient {
  readonly url: string;
  private readonly clock: Clock;
  private readonly conn: Connection;
  private readonly session: Session;
  private readonly rooms: Rooms;
  private readonly outbox: Outbox;
  private readonly active: ActiveRoom;
  private readonly sync: RoomSync;
  private readonly messageSearch: MessageSearch;
  private readonly memberSearches: MemberSearches;
  private readonly announcements: Announcements;
  private readonly frames: FrameHandler;

  private listeners = new Set<(s: ClientState) => void>();
  private eventListeners = new Set<(e: ClientEvent) => void>();
  private snapshot?: ClientState;
  private notifyQueued = false;

  constructor(opts: ClientOptions) {
    this.url = opts.url;
    this.session = new Session(opts);
    this.clock = opts.clock ?? browserClock;
    this.conn = new Connection(
      {
        url: this.url,
        socket: opts.socket ?? ((url) => new WebSocket(url) as unknown as SocketLike),
        clock: this.clock,
        baseMs: opts.backoff?.baseMs ?? 500,
        maxMs: opts.backoff?.maxMs ?? 15000,
      },
      {
        opened: () => this.hello(),
        frame: (f) => this.frames.handle(f),
        dropped: () => {
          this.outbox.disconnected();
          this.rooms.disconnected();
        },
        status: (s) => {
          this.changed();
          this.emit({ type: 'status', status: s });
        },
      },
    );
    this.rooms = new Rooms(this.clock, () => this.changed());
    this.active = new ActiveRoom(this.rooms, () => this.changed());
    this.announcements = new Announcements(this.session.mine, opts.seenAnnouncements);
    this.messageSearch = new MessageSearch({ rooms: this.rooms, session: this.session, conn: this.conn, changed: () => this.changed() });
    this.memberSearches = new MemberSearches({ rooms: this.rooms, conn: this.conn, clock: this.clock });
    this.outbox = new Outbox({
      clock: this.clock,
      rooms: this.rooms,
      ackTimeoutMs: opts.ackTimeoutMs ?? 10000,
      transmit: (f) => this.transmit(f),
      ready: (r) => this.isOnline() && r.state === 'joined',
      sent: (clientId, key) => this.emit({ type: 'sent', room: this.rooms.get(key)?.name ?? key, clientId }),
    });
    this.sync = new RoomSync({
      rooms: this.rooms,
      outbox: this.outbox,
      session: this.session,
      active: this.active,
      conn: this.conn,
      emit: (e) => this.emit(e),
      caughtUp: (r) => {
        // a message to show that is older than this history: ask for it
        this.messageSearch.loadFocus(r);
        this.memberSearches.joined(r);
      },
    });
    this.frames = new FrameHandler({
      conn: this.conn,
      session: this.session,
      rooms: this.rooms,
      outbox: this.outbox,
      sync: this.sync,
      messageSearch: this.messageSearch,
      memberSearches: this.memberSearches,
      announcements: this.announcements,
      typingMs: opts.typingMs ?? 4000,
      changed: () => this.changed(),
      emit: (e) => this.emit(e),
    });
    this.rooms.room(LOBBY, LOBBY).wanted = true;
    for (const r of opts.rooms ?? []) {
      if (roomKey(r) !== LOBBY) this.rooms.room(r).wanted = true;
    }
    if (opts.active && this.rooms.get(roomKey(opts.active))?.wanted) this.active.set(opts.active);
  }

  // ---- public API -------------------------------------------------------

  get state(): ClientState {
    if (!this.snapshot) this.snapshot = this.buildSnapshot();
    return this.snapshot;
  }

  /** subscribe follows the state; fn runs now and after each change. */
  subscribe(fn: (s: ClientState) => void): () => void {
    this.listeners.add(fn);
    fn(this.state);
    return () => this.listeners.delete(fn);
  }

  /** on follows events: live messages from others, errors, status changes. */
  on(fn: (e: ClientEvent) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  get sessionToken(): string | undefined {
    return this.session.token;
  }

  connect(): void {
    this.conn.connect();
  }

  /** reconnectNow skips the wait before the next attempt. */
  reconnectNow(): void {
    this.conn.reconnectNow();
  }

  /** close ends the connection for good (until connect is called again). */
  close(): void {
    this.conn.close();
  }

  /** setName changes the name used for the next hello (after name_taken, say). */
  setName(name: string): void {
    this.session.setName(name);
  }

  setJoinCode(code: string): void {
    this.session.setJoinCode(code);
  }

  join(name: string): void {
    this.sync.join(name);
  }

  leave(name: string): void {
    this.sync.leave(name);
  }

  createRoom(name: string): void {
    if (this.isOnline()) this.transmit({ type: 'create_room', room: name.trim() });
  }

  /**
   * send posts text to a room and returns its client_id, or an error code
   * when the text cannot be sent at all (empty_text, text_too_long). The
   * message shows at once as pending; it goes out when the room is joined.
   */
  send(roomName: string, text: string, replyTo?: number): { clientId?: string; error?: string } {
    const error = textError(text, this.session.limits);
    if (error) return { error };
    const r = this.rooms.room(roomName);
    return { clientId: this.outbox.add(r, text, this.session.author, undefined, this.replyOf(r, replyTo)) };
  }

  /** replyOf is what a reply to seq shows at once: the seq and, when we have the original, its author. */
  private replyOf(r: Room, seq: number | undefined): { seq: number; from?: Member } | undefined {
    if (!seq) return undefined;
    const key = r.bySeq.get(seq);
    const orig = r.entries.find((e) => e.kind === 'message' && e.key === key);
    return { seq, from: orig?.kind === 'message' ? { id: orig.from.id, name: orig.from.name } : undefined };
  }

  /** react adds (or with remove, takes back) our reaction emoji to message seq of a room. */
  react(roomName: string, seq: number, emoji: string, remove = false): string | undefined {
    const r = this.rooms.find(roomName);
    if (!r) return undefined;
    return this.outbox.addEvent(r, remove ? { type: 'react', target: seq, emoji, remove: true } : { type: 'react', target: seq, emoji });
  }

  /** edit replaces the text of our message seq (within limits.edit_seconds); an error code when it cannot go. */
  edit(roomName: string, seq: number, text: string): { clientId?: string; error?: string } {
    const error = textError(text, this.session.limits);
    if (error) return { error };
    const r = this.rooms.find(roomName);
    if (!r) return { error: 'no_such_room' };
    return { clientId: this.outbox.addEvent(r, { type: 'edit', target: seq, text }) };
  }

  /** poll posts a poll: a question and 2–6 options (blank ones left out). */
  poll(roomName: string, question: string, options: string[]): { clientId?: string; error?: string } {
    const opts = options.map((o) => o.trim()).filter(Boolean);
    if (!question.trim()) return { error: 'empty_text' };
    if (opts.length < 2 || opts.length > 6 || new Set(opts.map((o) => o.toLowerCase())).size !== opts.length) return { error: 'bad_poll' };
    const r = this.rooms.room(roomName);
    return { clientId: this.outbox.addEvent(r, { type: 'poll', text: question.trim(), options: opts }) };
  }

  /** vote chooses option of poll seq (a later vote replaces it). */
  vote(roomName: string, seq: number, option: number): string | undefined {
    const r = this.rooms.find(roomName);
    return r && this.outbox.addEvent(r, { type: 'vote', target: seq, option });
  }

  /** closePoll closes poll seq (its author, or a host). */
  closePoll(roomName: string, seq: number): string | undefined {
    const r = this.rooms.find(roomName);
    return r && this.outbox.addEvent(r, { type: 'close_poll', target: seq });
  }

  /** isMine: a member id is us (now, or on a box we failed over from). */
  isMine(id: string): boolean {
    return this.session.mine(id);
  }

  /**
   * ensureLoaded makes message seq of a room available to be shown: true when we have
   * it; otherwise it asks the host for the room again from just before it
   * (what follows comes again and is deduplicated) and returns false.
   */
  ensureLoaded(roomName: string, seq: number): boolean {
    return this.sync.ensureLoaded(roomName, seq);
  }

  /**
   * sendFiles posts a message with files to a room. The message shows at
   * once as pending, with the files, and is held while they upload (see
   * uploads.ts): releaseFiles sends it with the finished uploads' ids. It
   * returns its client_id, or an error code when it cannot be sent at all.
   * text may be empty.
   */
  sendFiles(roomName: string, text: string, files: LocalFile[], replyTo?: number): { clientId?: string; error?: string } {
    if (!files.length) return this.send(roomName, text, replyTo);
    if (files.length > MAX_ATTACHMENTS) return { error: 'too_many_files' };
    const error = textError(text, this.session.limits, true);
    if (error) return { error };
    const r = this.rooms.room(roomName);
    return { clientId: this.outbox.add(r, text.trim() ? text : '', this.session.author, files, this.replyOf(r, replyTo)) };
  }

  /** releaseFiles sends a held message with the ids of its finished uploads. */
  releaseFiles(clientId: string, uploadIds: string[]): void {
    this.outbox.release(clientId, uploadIds);
  }

  /** holdFiles makes a message wait for its files again (they upload once more); false when it cannot. */
  holdFiles(clientId: string): boolean {
    return this.outbox.hold(clientId);
  }

  /** filesFailed marks a message whose files could not be uploaded failed, for a reason (an error code). */
  filesFailed(clientId: string, reason: string): void {
    this.outbox.fail(clientId, reason);
  }

  /** files says how this host takes files now; undefined when it takes none (or before the first welcome). */
  get files(): FilesInfo | undefined {
    return this.session.files(this.conn.url);
  }

  /** online: connected and welcomed, now. */
  get online(): boolean {
    return this.isOnline();
  }

  /** retry sends a failed message again under the same client_id. */
  retry(clientId: string): void {
    this.outbox.retry(clientId);
  }

  /** discard removes a failed message from the view. */
  discard(clientId: string): void {
    this.outbox.discard(clientId);
  }

  /** control sends a host action (host and co-host only; others get "forbidden"). */
  control(action: string, fields: Omit<Control, 'type' | 'action'> = {}): void {
    if (this.isOnline()) this.transmit({ type: 'control', action, ...fields });
  }

  /** pin pins message seq at the top of a room, or unpins what is pinned there (seq undefined); host and co-hosts only. */
  pin(roomName: string, seq?: number): void {
    this.control('pin', seq === undefined ? { room: roomName } : { room: roomName, seq, flag: true });
  }

  /** announce sends text to every member of the host (host and co-hosts only); an error code when it cannot go at all. */
  announce(text: string): string | undefined {
    const error = textError(text, this.session.limits);
    if (error) return error;
    if (!this.isOnline()) return 'offline';
    this.control('announce', { text });
    return undefined;
  }

  /** seenAnnouncements: the user saw (dismissed) the announcements so far; the badge clears. */
  seenAnnouncements(): void {
    if (this.announcements.seen()) this.changed();
  }

  /** dm opens the private conversation with a member; it becomes the active room when it arrives. */
  dm(memberId: string): void {
    if (!this.isOnline()) return;
    this.active.dmAsked();
    this.transmit({ type: 'dm', member: memberId });
  }

  /**
   * searchMembers asks the host for the members of a room whose name contains
   * query, at most limit of them (the search box of a large room, where the
   * member list holds only the hosts and us). The answer lands in the room's
   * view as search, apart from its member list. Only the latest query counts:
   * an answer to an earlier one is dropped. An empty query ends the search and
   * asks nothing. Offline, or before the room's joined, the query waits and
   * goes out with the room's next joined. It returns whether a frame went out.
   */
  searchMembers(roomName: string, query: string, limit = 50): boolean {
    return this.memberSearches.ask(roomName, query, limit);
  }

  /**
   * search asks the host for the messages with every word of query, in the
   * rooms we may read; the answer lands in the state's search (an answer to
   * an earlier query is dropped). It returns why it could not ask: bad_query
   * (blank or too long), search_off (the host does not search) or offline;
   * the state's search then says so too.
   */
  search(query: string): string | undefined {
    return this.messageSearch.ask(query);
  }

  /** clearSearch ends the message search: its answer, if it comes, is dropped. */
  clearSearch(): void {
    this.messageSearch.clear();
  }

  /**
   * show brings message seq of a room into view (a search result opened):
   * it joins the room if need be, makes it the active one, and asks for the
   * older history down to a little before the message when the room does
   * not show it yet. The state's focus names the message until the view
   * calls focused.
   */
  show(roomName: string, seq: number): void {
    if (!roomKey(roomName) || !(seq >= 1)) return;
    const r = this.rooms.room(roomName);
    this.join(r.name);
    this.setActive(r.name);
    this.messageSearch.show(r, seq);
  }

  /** focused: the view showed the focused message (or gave up on it). */
  focused(): void {
    this.messageSearch.focused();
  }

  /** typing tells the room the user is typing, at most once per limits.typing_ms. */
  typing(roomName: string): void {
    const r = this.rooms.find(roomName);
    if (!r || !inRoom(r) || !this.isOnline()) return;
    const every = this.session.limits?.typing_ms ?? 2000;
    const now = this.clock.now();
    if (now - r.lastTypingSent < every) return;
    r.lastTypingSent = now;
    this.transmit({ type: 'typing', room: r.name });
  }

  /**
   * setVisible says whether this host is on screen. While it is not, new
   * messages count as unread in every room, the active one too.
   */
  setVisible(visible: boolean): void {
    this.active.setVisible(visible);
  }

  /** setActive marks the room the user is looking at: its unread count clears. */
  setActive(roomName: string): void {
    this.active.set(roomName);
  }

  /**
   * unreadWhenOpened: how many messages of a room were unread when it was
   * last made the active one (0 for any other room). The message list reads
   * it once, to put its "new messages" line above the first of them.
   */
  unreadWhenOpened(roomName: string): number {
    return this.active.unreadWhenOpened(roomName);
  }

  // ---- talking to the host ----------------------------------------------

  private isOnline(): boolean {
    return this.conn.online;
  }

  private transmit(f: ClientFrame): void {
    this.conn.transmit(f);
  }

  /** hello greets the host, resuming the session and the rooms it can name. */
  private hello(): void {
    this.transmit(this.session.hello(this.sync.resume(), this.conn.url === this.url));
  }

  // ---- notifying --------------------------------------------------------

  private changed(): void {
    this.snapshot = undefined;
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      const s = this.state;
      for (const fn of this.listeners) fn(s);
    });
  }

  private emit(e: ClientEvent): void {
    for (const fn of this.eventListeners) {
      try {
        fn(e);
      } catch (err) {
        console.error(err);
      }
    }
  }

  private buildSnapshot(): ClientState {
    return {
      status: this.conn.status,
      host: this.session.host,
      me: this.session.me,
      limits: this.session.limits,
      files: this.files,
      rooms: this.rooms.views(),
      active: this.active.key,
      search: this.messageSearch.latest,
      focus: this.messageSearch.focus,
      announcements: this.announcements.list,
      unseenAnnouncements: this.announcements.unseen,
      newAnnouncements: this.announcements.fresh,
    };
  }
}
