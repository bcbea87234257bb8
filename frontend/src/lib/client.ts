// The lanchat client: one instance per host. It speaks protocol v1
// (docs/protocol.md) over a WebSocket, reconnects with backoff and jitter,
// resumes with the last seq per room, dedupes what it receives, and tracks
// outgoing messages (pending -> sent, or failed) with retries under the same
// client_id. The desktop app and the browser UI both use it.

import {
  FATAL_CODES,
  LOBBY,
  isPrivate,
  PROTOCOL_VERSION,
  parseBatch,
  roomKey,
  utf8Length,
  type ClientFrame,
  type Control,
  type ErrorFrame,
  type Joined,
  type Limits,
  type Member,
  type Message,
  type Presence,
  type PresenceChange,
  type RoomInfo,
  type ServerFrame,
  type Welcome,
} from './protocol';

/** The parts of a WebSocket the client uses, so tests can hand it a fake. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

/** Timers and randomness, replaceable in tests. */
export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
  random(): number;
}

const OPEN = 1;

export type Status =
  | { kind: 'idle' }
  | { kind: 'connecting'; attempt: number }
  | { kind: 'online' }
  /** waiting to reconnect; retryAt is a clock time in ms */
  | { kind: 'waiting'; attempt: number; retryAt: number; reason?: string }
  /** the host refused us for a reason the user must fix (name taken, join code...) */
  | { kind: 'refused'; code: string }
  | { kind: 'closed' };

export type OutState = 'pending' | 'sent' | 'failed';

export interface MessageEntry {
  kind: 'message';
  key: string;
  room: string;
  seq?: number;
  epoch: number;
  id?: string;
  from: Member;
  text: string;
  ts: number;
  clientId?: string;
  own: boolean;
  state: OutState;
  /** why a message failed: an error code or "timeout" */
  error?: string;
  /** deleted: the text is gone, a tombstone stays */
  deleted?: boolean;
}

export interface NoticeEntry {
  kind: 'notice';
  key: string;
  room: string;
  /** joined/left/disconnected: presence; gap: older messages are not available;
   * reset: the host's history started over (it restarted without it, or it was
   * wiped); gone: the room no longer exists */
  event: 'joined' | 'left' | 'disconnected' | 'gap' | 'reset' | 'gone' | 'closed' | 'renamed';
  /** for renamed: the new name */
  detail?: string;
  member?: Member;
  /** presence of several people at once (a burst of joins): one notice for all */
  members?: Member[];
  ts: number;
}

export type Entry = MessageEntry | NoticeEntry;

export interface RoomView {
  key: string;
  name: string;
  /** in the room right now (the host confirmed) */
  joined: boolean;
  /** the client wants to be in the room (it re-joins after reconnecting) */
  wanted: boolean;
  /** the host said the room does not exist */
  gone: boolean;
  /** member count from the rooms list */
  count: number;
  topic?: string;
  locked?: boolean;
  announcements?: boolean;
  /** slow mode: guests post at most once per this many seconds (0: off) */
  slowSeconds: number;
  /** a private conversation (its name starts with "@") */
  private: boolean;
  /** whether the room is in the host's rooms list */
  listed: boolean;
  members: Member[];
  entries: Entry[];
  lastSeq: number;
  unread: number;
  mentions: number;
  typing: Member[];
}

export interface ClientState {
  status: Status;
  host?: { id: string; name: string };
  me?: Member;
  limits?: Limits;
  rooms: RoomView[];
  active: string;
}

export interface ClientOptions {
  url: string;
  name: string;
  /** proves the host role: only ever give this to the own host's client */
  hostToken?: string;
  joinCode?: string;
  device?: string;
  /** a session token from an earlier page of the same tab */
  session?: string;
  /** rooms to be in besides the lobby */
  rooms?: string[];
  socket?: SocketFactory;
  clock?: Clock;
  backoff?: { baseMs?: number; maxMs?: number };
  ackTimeoutMs?: number;
  /** how long a typing hint lasts */
  typingMs?: number;
}

export type ClientEvent =
  | { type: 'message'; room: string; entry: MessageEntry }
  | { type: 'error'; code: string; ref?: string; message: string }
  | { type: 'status'; status: Status };

interface Room {
  key: string;
  name: string;
  joined: boolean;
  wanted: boolean;
  /** joined at least once on some connection: the resume can name it */
  known: boolean;
  joining: boolean;
  gone: boolean;
  listed: boolean;
  count: number;
  topic?: string;
  locked?: boolean;
  announcements?: boolean;
  /** slow mode: guests post at most once per this many seconds (0: off) */
  slowSeconds: number;
  members: Member[];
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
  resyncing: boolean;
  unread: number;
  mentions: number;
  typing: Map<string, { member: Member; until: number }>;
  lastTypingSent: number;
  view?: RoomView;
}

interface Outgoing {
  clientId: string;
  room: string;
  text: string;
  state: OutState;
  error?: string;
  timer?: unknown;
  seq: number;
}

const browserClock: Clock = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
  random: () => Math.random(),
};

function randomId(prefix: string, clock: Clock): string {
  const c = globalThis.crypto;
  if (c && typeof c.getRandomValues === 'function') {
    const b = new Uint8Array(8);
    c.getRandomValues(b);
    return prefix + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }
  return prefix + Math.floor(clock.random() * 2 ** 52).toString(16) + clock.now().toString(16);
}

/** mentions reports whether text mentions name (as "@name" or the name as a word). */
export function mentions(text: string, name: string | undefined): boolean {
  if (!name) return false;
  const esc = name.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (!esc) return false;
  return new RegExp(`(^|[^\\p{L}\\p{N}_])@?${esc}(?![\\p{L}\\p{N}_])`, 'iu').test(text);
}

/** What a message next in seq order shows: a new entry, or a patch of our own pending one. */
type Taken = { kind: 'new'; entry: MessageEntry } | { kind: 'own'; key: string; patch: Partial<MessageEntry> };

/**
 * mergeHistory merges a history batch into a room's entries in one pass and
 * returns the new array. added is in ascending seq order, all of the room's
 * current epoch; patches turn our own unconfirmed entries (by key) into sent
 * ones (the host gives a client_id one seq).
 *
 * The result is what inserting the messages one by one gives (see insert): a
 * message goes after the last entry that stops it (a notice, or a sent message
 * of an earlier epoch or of a seq not above its own) and before everything
 * after that: later messages and our own still-unsent ones (no seq). An
 * entry's bound is the least "stop" at or after it; bounds never decrease
 * along the array, so a two-way merge on them is enough.
 */
function mergeHistory(entries: Entry[], added: MessageEntry[], patches: Map<string, Partial<MessageEntry>>): Entry[] {
  const n = entries.length;
  const cur: Entry[] = patches.size
    ? entries.map((e): Entry => {
        if (e.kind !== 'message') return e;
        const p = patches.get(e.key);
        return p ? { ...e, ...p } : e;
      })
    : entries;
  // bound i: the least (epoch, seq) of an entry at or after i that stops a message
  const boundEpoch = new Array<number>(n + 1);
  const boundSeq = new Array<number>(n + 1);
  boundEpoch[n] = boundSeq[n] = Infinity;
  for (let i = n - 1; i >= 0; i--) {
    const e = cur[i];
    let ep: number, sq: number;
    if (e.kind !== 'message') ep = sq = -Infinity;
    else if (e.seq === undefined) ep = sq = Infinity;
    else {
      ep = e.epoch;
      sq = e.seq;
    }
    if (ep < boundEpoch[i + 1] || (ep === boundEpoch[i + 1] && sq < boundSeq[i + 1])) {
      boundEpoch[i] = ep;
      boundSeq[i] = sq;
    } else {
      boundEpoch[i] = boundEpoch[i + 1];
      boundSeq[i] = boundSeq[i + 1];
    }
  }
  const out: Entry[] = [];
  let i = 0;
  for (const m of added) {
    const seq = m.seq ?? 0;
    while (i < n && (boundEpoch[i] < m.epoch || (boundEpoch[i] === m.epoch && boundSeq[i] <= seq))) out.push(cur[i++]);
    out.push(m);
  }
  while (i < n) out.push(cur[i++]);
  return out;
}

export class LanchatClient {
  readonly url: string;
  private name: string;
  private hostToken?: string;
  private joinCode?: string;
  private device?: string;
  private session?: string;
  private sock?: SocketLike;
  private readonly socket: SocketFactory;
  private readonly clock: Clock;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly ackTimeoutMs: number;
  private readonly typingMs: number;

  private status: Status = { kind: 'idle' };
  private attempt = 0;
  private retryTimer?: unknown;
  private stopped = false;
  private refused?: string;
  private welcomed = false;
  private host?: { id: string; name: string };
  private me?: Member;
  private limits?: Limits;
  private rooms = new Map<string, Room>();
  private order: string[] = [LOBBY];
  private outgoing = new Map<string, Outgoing>();
  private outSeq = 0;
  private active = LOBBY;
  /** rooms named in the last hello's resume: the host joins us to them by itself */
  private resuming = new Set<string>();
  private dmPending = false;
  private previous = LOBBY;
  private visible = true;

  private listeners = new Set<(s: ClientState) => void>();
  private eventListeners = new Set<(e: ClientEvent) => void>();
  private snapshot?: ClientState;
  private notifyQueued = false;

  constructor(opts: ClientOptions) {
    this.url = opts.url;
    this.name = opts.name.trim();
    this.hostToken = opts.hostToken || undefined;
    this.joinCode = opts.joinCode || undefined;
    this.device = opts.device;
    this.session = opts.session;
    this.clock = opts.clock ?? browserClock;
    this.socket = opts.socket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    this.baseMs = opts.backoff?.baseMs ?? 500;
    this.maxMs = opts.backoff?.maxMs ?? 15000;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 10000;
    this.typingMs = opts.typingMs ?? 4000;
    const lobby = this.room(LOBBY, LOBBY);
    lobby.wanted = true;
    for (const r of opts.rooms ?? []) {
      if (roomKey(r) !== LOBBY) this.room(r).wanted = true;
    }
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
    return this.session;
  }

  connect(): void {
    this.stopped = false;
    this.refused = undefined;
    if (this.sock) return;
    this.clearRetry();
    this.open();
  }

  /** reconnectNow skips the wait before the next attempt. */
  reconnectNow(): void {
    if (this.stopped && this.status.kind === 'closed') return;
    this.refused = undefined;
    this.clearRetry();
    if (this.sock) return;
    this.stopped = false;
    this.open();
  }

  /** close ends the connection for good (until connect is called again). */
  close(): void {
    this.stopped = true;
    this.clearRetry();
    const s = this.sock;
    if (s) {
      this.detach();
      try {
        s.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
    this.dropped();
    this.setStatus({ kind: 'closed' });
  }

  /** setName changes the name used for the next hello (after name_taken, say). */
  setName(name: string): void {
    this.name = name.trim();
    this.session = undefined;
  }

  setJoinCode(code: string): void {
    this.joinCode = code.trim() || undefined;
  }

  join(name: string): void {
    const key = roomKey(name);
    if (!key) return;
    const r = this.room(name);
    r.wanted = true;
    r.gone = false;
    this.touch(r);
    if (this.isOnline() && !r.joined) this.sendJoin(r);
  }

  leave(name: string): void {
    const r = this.rooms.get(roomKey(name));
    if (!r || r.key === LOBBY) return;
    r.wanted = false;
    this.touch(r);
    if (this.isOnline() && (r.joined || r.joining)) this.transmit({ type: 'leave', room: r.name });
  }

  createRoom(name: string): void {
    if (this.isOnline()) this.transmit({ type: 'create_room', room: name.trim() });
  }

  /**
   * send posts text to a room and returns its client_id, or an error code
   * when the text cannot be sent at all (empty_text, text_too_long). The
   * message shows at once as pending; it goes out when the room is joined.
   */
  send(roomName: string, text: string): { clientId?: string; error?: string } {
    if (!text.trim()) return { error: 'empty_text' };
    if (this.limits && utf8Length(text) > this.limits.max_text) return { error: 'text_too_long' };
    const r = this.room(roomName);
    const clientId = randomId('c-', this.clock);
    const out: Outgoing = { clientId, room: r.key, text, state: 'pending', seq: ++this.outSeq };
    this.outgoing.set(clientId, out);
    r.entries = [
      ...r.entries,
      {
        kind: 'message',
        key: 'c:' + clientId,
        room: r.name,
        epoch: r.epoch,
        from: this.me ?? { id: '', name: this.name },
        text,
        ts: this.clock.now(),
        clientId,
        own: true,
        state: 'pending',
      },
    ];
    this.touch(r);
    if (this.isOnline() && r.joined && !r.resyncing) this.transmitSend(out);
    return { clientId };
  }

  /** retry sends a failed message again under the same client_id. */
  retry(clientId: string): void {
    const out = this.outgoing.get(clientId);
    if (!out || out.state !== 'failed') return;
    this.setOut(out, 'pending');
    const r = this.rooms.get(out.room);
    if (r && this.isOnline() && r.joined && !r.resyncing) this.transmitSend(out);
  }

  /** discard removes a failed message from the view. */
  discard(clientId: string): void {
    const out = this.outgoing.get(clientId);
    if (!out || out.state !== 'failed') return;
    this.outgoing.delete(clientId);
    const r = this.rooms.get(out.room);
    if (r) {
      r.entries = r.entries.filter((e) => e.key !== 'c:' + clientId);
      this.touch(r);
    }
  }

  /** control sends a host action (host and co-host only; others get "forbidden"). */
  control(action: string, fields: Omit<Control, 'type' | 'action'> = {}): void {
    if (this.isOnline()) this.transmit({ type: 'control', action, ...fields });
  }

  /** dm opens the private conversation with a member; it becomes the active room when it arrives. */
  dm(memberId: string): void {
    if (!this.isOnline()) return;
    this.dmPending = true;
    this.transmit({ type: 'dm', member: memberId });
  }

  /** typing tells the room the user is typing, at most once per limits.typing_ms. */
  typing(roomName: string): void {
    const r = this.rooms.get(roomKey(roomName));
    if (!r || !r.joined || !this.isOnline()) return;
    const every = this.limits?.typing_ms ?? 2000;
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
    this.visible = visible;
    if (visible) this.setActive(this.active);
  }

  /** setActive marks the room the user is looking at: its unread count clears. */
  setActive(roomName: string): void {
    const key = roomKey(roomName);
    if (key !== this.active) this.previous = this.active;
    this.active = key;
    const r = this.rooms.get(key);
    if (r && (r.unread || r.mentions)) {
      r.unread = 0;
      r.mentions = 0;
      this.touch(r);
    } else this.changed();
  }

  // ---- connection -------------------------------------------------------

  private isOnline(): boolean {
    return this.welcomed && !!this.sock && this.sock.readyState === OPEN;
  }

  private open(): void {
    this.welcomed = false;
    this.setStatus({ kind: 'connecting', attempt: this.attempt });
    let s: SocketLike;
    try {
      s = this.socket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.sock = s;
    s.onopen = () => this.onOpen();
    s.onmessage = (ev) => {
      if (typeof ev.data === 'string') for (const f of parseBatch(ev.data)) this.handle(f);
    };
    s.onclose = () => this.onClose(s);
    s.onerror = () => {
      /* onclose follows */
    };
  }

  private detach(): void {
    const s = this.sock;
    if (!s) return;
    s.onopen = s.onmessage = s.onclose = s.onerror = null;
    this.sock = undefined;
  }

  private onOpen(): void {
    const rooms: Record<string, number> = {};
    this.resuming.clear();
    for (const r of this.rooms.values()) {
      if (r.wanted && r.known && !r.gone) {
        rooms[r.name] = r.lastSeq;
        this.resuming.add(r.key);
      }
    }
    const hello: ClientFrame = { type: 'hello', version: PROTOCOL_VERSION, name: this.name };
    if (this.session || this.resuming.size) {
      hello.resume = {};
      if (this.session) hello.resume.session = this.session;
      if (Object.keys(rooms).length) hello.resume.rooms = rooms;
    }
    if (this.joinCode) hello.join_code = this.joinCode;
    if (this.hostToken) hello.host_token = this.hostToken;
    if (this.device) hello.device = this.device;
    this.transmit(hello);
  }

  private onClose(s: SocketLike): void {
    if (s !== this.sock) return;
    this.detach();
    this.dropped();
    if (this.stopped) {
      this.setStatus({ kind: 'closed' });
    } else if (this.refused) {
      this.setStatus({ kind: 'refused', code: this.refused });
    } else {
      this.scheduleReconnect();
    }
  }

  /** dropped forgets what only lives as long as a connection. */
  private dropped(): void {
    this.welcomed = false;
    for (const out of this.outgoing.values()) {
      if (out.timer !== undefined) {
        this.clock.clearTimeout(out.timer);
        out.timer = undefined;
      }
    }
    for (const r of this.rooms.values()) {
      if (r.joined || r.joining || r.typing.size || r.resyncing) {
        r.joined = r.joining = r.resyncing = false;
        r.typing.clear();
        this.touch(r);
      }
    }
  }

  private lastReason?: string;

  private scheduleReconnect(): void {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt, 20));
    // "equal jitter": half the delay is fixed, half random, so that many
    // clients of a restarted host do not all come back at the same moment.
    const delay = ceiling / 2 + this.clock.random() * (ceiling / 2);
    this.attempt++;
    this.setStatus({ kind: 'waiting', attempt: this.attempt, retryAt: this.clock.now() + delay, reason: this.lastReason });
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped && !this.sock) this.open();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) {
      this.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  private transmit(f: ClientFrame): void {
    const s = this.sock;
    if (!s || s.readyState !== OPEN) return;
    try {
      s.send(JSON.stringify(f));
    } catch {
      /* the close handler takes over */
    }
  }

  private transmitSend(out: Outgoing): void {
    this.transmit({ type: 'send', room: this.rooms.get(out.room)?.name ?? out.room, client_id: out.clientId, text: out.text });
    if (out.timer !== undefined) this.clock.clearTimeout(out.timer);
    out.timer = this.clock.setTimeout(() => {
      out.timer = undefined;
      if (out.state === 'pending') this.setOut(out, 'failed', 'timeout');
    }, this.ackTimeoutMs);
  }

  private sendJoin(r: Room, since?: number): void {
    r.joining = true;
    const f: ClientFrame = { type: 'join', room: r.name };
    if (since !== undefined) f.since = since;
    else if (r.known) f.since = r.lastSeq;
    this.transmit(f);
  }

  /** flush sends what waits for the room: pending messages and those that timed out. */
  private flush(r: Room): void {
    const waiting = [...this.outgoing.values()]
      .filter((o) => o.room === r.key && (o.state === 'pending' || (o.state === 'failed' && o.error === 'timeout')))
      .sort((a, b) => a.seq - b.seq);
    for (const out of waiting) {
      if (out.state === 'failed') this.setOut(out, 'pending');
      this.transmitSend(out);
    }
  }

  // ---- frames -----------------------------------------------------------

  private handle(f: ServerFrame): void {
    switch (f.type) {
      case 'welcome':
        return this.onWelcome(f);
      case 'joined':
        return this.onJoined(f);
      case 'left': {
        const r = this.rooms.get(roomKey(f.room));
        if (r) {
          r.joined = r.joining = false;
          r.typing.clear();
          this.touch(r);
        }
        return;
      }
      case 'ack':
        return this.onAck(f.client_id, f.seq, f.id, f.ts);
      case 'message': {
        const r = this.rooms.get(roomKey(f.room));
        if (r) this.accept(r, f);
        return;
      }
      case 'typing': {
        const r = this.rooms.get(roomKey(f.room));
        if (!r || !f.from || f.from.id === this.me?.id) return;
        r.typing.set(f.from.id, { member: f.from, until: this.clock.now() + this.typingMs });
        this.touch(r);
        this.clock.setTimeout(() => this.pruneTyping(r), this.typingMs + 10);
        return;
      }
      case 'presence':
        return this.onPresence(f);
      case 'rooms':
        return this.onRooms(f.rooms);
      case 'error':
        return this.onError(f);
      case 'deleted': {
        const r = this.rooms.get(roomKey(f.room));
        if (!r) return;
        const key = r.bySeq.get(f.seq);
        const e = r.entries.find((x) => (key && x.key === key) || (x.kind === 'message' && x.id === f.id));
        if (e) this.replace(r, e.key, (m) => ({ ...m, text: '', deleted: true }));
        return;
      }
      case 'renamed':
        return this.onRenamed(f.room, f.name);
      case 'closed': {
        const r = this.rooms.get(roomKey(f.room));
        if (!r) return;
        r.joined = r.joining = r.wanted = r.resyncing = false;
        r.gone = true;
        r.typing.clear();
        this.push(r, { kind: 'notice', key: randomId('n-', this.clock), room: r.name, event: 'closed', ts: this.clock.now() });
        if (this.active === r.key) this.active = LOBBY;
        return;
      }
      case 'member': {
        const m = f.member;
        if (!m?.id) return;
        // the frame carries the whole member: an absent muted or role means none
        if (this.me?.id === m.id) this.me = { ...m };
        for (const r of this.rooms.values()) {
          const i = r.members.findIndex((x) => x.id === m.id);
          if (i >= 0) {
            r.members = r.members.map((x) => (x.id === m.id ? { ...m } : x));
            this.touch(r);
          }
        }
        this.changed();
        return;
      }
    }
  }

  private onWelcome(w: Welcome): void {
    if (this.host && this.host.id !== w.host.id) {
      // A different host answers at this address: nothing carries over.
      for (const r of this.rooms.values()) this.reset(r);
    }
    // welcome.epoch (the id of the host's history database) is deliberately
    // not acted on here: every room we are in gets a joined, which carries the
    // same epoch, and onJoined handles a changed one room by room. Resetting
    // here could not save a round trip anyway: the host answers the rooms
    // named in hello.resume by itself, from the seqs we sent before we knew.
    this.host = w.host;
    this.me = w.member;
    this.session = w.session;
    this.limits = w.limits;
    this.welcomed = true;
    this.attempt = 0;
    this.lastReason = undefined;
    this.onRooms(w.rooms ?? []);
    for (const r of this.rooms.values()) {
      if (!r.wanted || r.gone) continue;
      if (this.resuming.has(r.key)) {
        // Named in hello.resume: the host sends joined by itself.
        r.joining = true;
      } else if (r.key !== LOBBY) {
        this.sendJoin(r);
      } else {
        r.joining = true;
      }
    }
    this.setStatus({ kind: 'online' });
  }

  private onJoined(j: Joined): void {
    const r = this.room(j.room, j.room);
    const hist = j.history ?? [];
    r.joining = false;
    r.joined = true;
    r.gone = false;
    r.wanted = true;
    r.members = j.members ?? [];
    this.touch(r);
    // Did the host's history start over (a host without a data dir restarted,
    // or its data dir was wiped)? A host that names its history (joined.epoch)
    // says so exactly: the epoch changed. Without two epochs to compare (the
    // host sends none, or we have none from it yet), the fallback is that the
    // host has fewer messages than we saw. Seqs from before a reset mean
    // nothing now: keep what we show, start counting afresh, fetch it all.
    const was = r.historyEpoch;
    // A room where we had seen nothing (lastSeq 0) got all of it anyway.
    const startedOver = r.lastSeq > 0 && (j.epoch && was ? j.epoch !== was : j.last_seq < r.lastSeq);
    if (startedOver) {
      this.reset(r);
      r.historyEpoch = j.epoch;
      this.push(r, { kind: 'notice', key: randomId('n-', this.clock), room: r.name, event: 'reset', ts: this.clock.now() });
      r.resyncing = true;
      this.sendJoin(r, 0);
      return;
    }
    if (j.epoch) r.historyEpoch = j.epoch;
    r.known = true;
    if (this.dmPending && isPrivate(r.name)) {
      this.dmPending = false;
      this.active = r.key;
      r.unread = r.mentions = 0;
    }
    if (hist.length && hist[0].seq > r.lastSeq + 1) {
      if (r.lastSeq > 0) this.push(r, { kind: 'notice', key: randomId('n-', this.clock), room: r.name, event: 'gap', ts: this.clock.now() });
      r.lastSeq = hist[0].seq - 1;
    }
    this.acceptHistory(r, hist);
    if (j.last_seq > r.lastSeq) {
      if (r.lastSeq > 0) this.push(r, { kind: 'notice', key: randomId('n-', this.clock), room: r.name, event: 'gap', ts: this.clock.now() });
      r.lastSeq = j.last_seq;
    }
    r.resyncing = false;
    this.flush(r);
  }

  /** reset forgets a room's seq bookkeeping: the host's history started over. */
  private reset(r: Room): void {
    r.epoch++;
    r.lastSeq = 0;
    r.bySeq.clear();
    r.historyEpoch = undefined;
    this.touch(r);
  }

  /**
   * accept takes a live message into a room: drops duplicates (by seq, by id,
   * and copies of our own messages by client_id) and detects gaps, which make
   * the client re-join with since.
   */
  private accept(r: Room, m: Message): void {
    if (typeof m.seq !== 'number') return;
    if (m.seq <= r.lastSeq) return;
    if (m.seq > r.lastSeq + 1) {
      if (!r.resyncing && r.joined) {
        r.resyncing = true;
        this.sendJoin(r, r.lastSeq);
      }
      return;
    }
    const t = this.take(r, m);
    if (!t) return;
    if (t.kind === 'own') {
      this.replace(r, t.key, (e) => ({ ...e, ...t.patch }));
      return;
    }
    const entry = t.entry;
    this.insert(r, entry);
    r.typing.delete(m.from.id);
    if (!entry.own) {
      if (r.key !== this.active || !this.visible) {
        r.unread++;
        if (mentions(m.text, this.me?.name)) r.mentions++;
      }
      this.emit({ type: 'message', room: r.name, entry });
    }
  }

  /**
   * acceptHistory takes a joined frame's history into a room in one pass: the
   * same dedupe as accept, then one merge into the entries, assigned once (a
   * resume of thousands of messages must not copy the entries per message).
   */
  private acceptHistory(r: Room, hist: Message[]): void {
    const added: MessageEntry[] = [];
    const patches = new Map<string, Partial<MessageEntry>>();
    for (const m of hist) {
      if (typeof m.seq !== 'number' || m.seq <= r.lastSeq) continue;
      const t = this.take(r, m);
      if (!t) continue;
      if (t.kind === 'own') {
        patches.set(t.key, t.patch);
      } else {
        added.push(t.entry);
        r.typing.delete(m.from.id);
      }
    }
    if (!added.length && !patches.size) return;
    r.entries = mergeHistory(r.entries, added, patches);
    this.touch(r);
  }

  /**
   * take does the bookkeeping for a message next in seq order (the caller has
   * checked its seq) and says what to show: nothing (a duplicate by id), a
   * patch for our own entry (matched by client_id), or a new entry.
   */
  private take(r: Room, m: Message): Taken | undefined {
    r.lastSeq = m.seq;
    if (r.ids.has(m.id)) return undefined;
    r.ids.add(m.id);
    const out = m.client_id ? this.outgoing.get(m.client_id) : undefined;
    if (out && out.room === r.key) {
      if (out.timer !== undefined) this.clock.clearTimeout(out.timer);
      out.timer = undefined;
      out.state = 'sent';
      out.error = undefined;
      const key = 'c:' + out.clientId;
      r.bySeq.set(m.seq, key);
      return { kind: 'own', key, patch: { seq: m.seq, epoch: r.epoch, id: m.id, ts: m.ts, from: m.from, state: 'sent', error: undefined } };
    }
    const entry: MessageEntry = {
      kind: 'message',
      key: 'm:' + m.id,
      room: r.name,
      seq: m.seq,
      epoch: r.epoch,
      id: m.id,
      from: m.from,
      text: m.deleted ? '' : m.text ?? '',
      ts: m.ts,
      clientId: m.client_id,
      own: false,
      state: 'sent',
    };
    if (m.deleted) entry.deleted = true;
    if (this.me && m.from.id === this.me.id) entry.own = true;
    r.bySeq.set(m.seq, entry.key);
    return { kind: 'new', entry };
  }

  private onAck(clientId: string, seq: number, id: string, ts: number): void {
    const out = this.outgoing.get(clientId);
    if (!out) return;
    if (out.timer !== undefined) this.clock.clearTimeout(out.timer);
    out.timer = undefined;
    const r = this.rooms.get(out.room);
    out.state = 'sent';
    out.error = undefined;
    if (!r) return;
    const key = 'c:' + clientId;
    r.ids.add(id);
    r.bySeq.set(seq, key);
    this.replace(r, key, (e) => ({ ...e, seq, epoch: r.epoch, id, ts, state: 'sent', error: undefined }));
  }

  private onRenamed(from: string, to: string): void {
    const oldKey = roomKey(from);
    const newKey = roomKey(to);
    const r = this.rooms.get(oldKey);
    if (!r) return;
    if (oldKey !== newKey) {
      this.rooms.delete(oldKey);
      const other = this.rooms.get(newKey);
      if (other) {
        // a room we only knew by name: the renamed one takes its place
        this.rooms.delete(newKey);
        this.order = this.order.filter((k) => k !== newKey);
      }
      r.key = newKey;
      this.rooms.set(newKey, r);
      this.order = this.order.map((k) => (k === oldKey ? newKey : k));
      if (this.active === oldKey) this.active = newKey;
      for (const out of this.outgoing.values()) if (out.room === oldKey) out.room = newKey;
    }
    r.name = to;
    r.entries = r.entries.map((e) => ({ ...e, room: to }));
    this.push(r, { kind: 'notice', key: randomId('n-', this.clock), room: to, event: 'renamed', detail: to, ts: this.clock.now() });
  }

  private onPresence(p: Presence): void {
    const r = this.rooms.get(roomKey(p.room));
    if (!r) return;
    const ts = p.ts || this.clock.now();
    // One notice per kind of change: a burst of 30 joins is one line, not 30.
    const byEvent = new Map<PresenceChange['event'], Member[]>();
    let members = r.members;
    for (const { event, member } of p.changes ?? []) {
      if (event === 'joined') {
        if (!members.some((m) => m.id === member.id)) members = [...members, member];
      } else {
        members = members.filter((m) => m.id !== member.id);
        r.typing.delete(member.id);
      }
      if (member.id === this.me?.id) continue;
      const list = byEvent.get(event) ?? [];
      list.push(member);
      byEvent.set(event, list);
    }
    r.members = members;
    const notices: NoticeEntry[] = [];
    for (const [event, list] of byEvent) {
      const n: NoticeEntry = { kind: 'notice', key: randomId('n-', this.clock), room: r.name, event, member: list[0], ts };
      if (list.length > 1) n.members = list;
      notices.push(n);
    }
    if (notices.length) r.entries = [...r.entries, ...notices];
    this.touch(r);
  }

  private onRooms(list: RoomInfo[]): void {
    const seen = new Set<string>();
    for (const info of list) {
      const r = this.room(info.name, info.name);
      seen.add(r.key);
      r.name = info.name;
      r.count = info.members;
      r.topic = info.topic;
      r.locked = info.locked;
      r.announcements = info.announcements;
      r.slowSeconds = info.slow_seconds ?? 0;
      r.listed = true;
      this.touch(r);
    }
    for (const r of this.rooms.values()) {
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

  private onError(e: ErrorFrame): void {
    if (FATAL_CODES.has(e.code)) this.refused = e.code;
    if (e.code === 'shutting_down' || e.code === 'server_full' || e.code === 'join_code_throttled') this.lastReason = e.code;
    const ref = e.ref ?? '';
    const out = ref ? this.outgoing.get(ref) : undefined;
    if (out) {
      if (out.timer !== undefined) this.clock.clearTimeout(out.timer);
      out.timer = undefined;
      const r = this.rooms.get(out.room);
      if (e.code === 'not_in_room' && r && r.wanted && !r.gone) {
        // We thought we were in; join again and the message goes out after.
        r.joined = false;
        if (!r.joining) this.sendJoin(r);
        this.touch(r);
      } else if (e.code === 'no_such_room' && r) {
        this.markGone(r);
        this.setOut(out, 'failed', e.code);
      } else {
        this.setOut(out, 'failed', e.code);
      }
    } else if (ref) {
      const r = this.rooms.get(roomKey(ref));
      if (r && e.code === 'no_such_room') this.markGone(r);
      else if (r && (e.code === 'bad_room_name' || e.code === 'forbidden' || e.code === 'room_exists' || e.code === 'too_many_rooms' || e.code === 'no_such_member')) {
        r.joining = false;
        this.touch(r);
      }
    }
    this.emit({ type: 'error', code: e.code, ref: e.ref, message: e.message });
  }

  private markGone(r: Room): void {
    const was = r.joined || r.known || r.entries.length > 0;
    r.gone = true;
    r.wanted = false;
    r.joined = r.joining = r.resyncing = false;
    if (was) this.push(r, { kind: 'notice', key: randomId('n-', this.clock), room: r.name, event: 'gone', ts: this.clock.now() });
    else if (this.active === r.key) {
      // a room that never existed: back to where the user was
      const prev = this.rooms.get(this.previous);
      this.active = prev && !prev.gone ? prev.key : LOBBY;
    }
    this.touch(r);
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

  // ---- bookkeeping ------------------------------------------------------

  private room(name: string, display?: string): Room {
    const key = roomKey(name);
    let r = this.rooms.get(key);
    if (!r) {
      r = {
        key,
        name: display ?? name.trim(),
        joined: false,
        wanted: false,
        known: false,
        joining: false,
        gone: false,
        listed: false,
        count: 0,
        slowSeconds: 0,
        members: [],
        entries: [],
        lastSeq: 0,
        epoch: 0,
        bySeq: new Map(),
        ids: new Set(),
        resyncing: false,
        unread: 0,
        mentions: 0,
        typing: new Map(),
        lastTypingSent: -Infinity,
      };
      this.rooms.set(key, r);
      if (!this.order.includes(key)) this.order.push(key);
      this.changed();
    } else if (display) {
      r.name = display;
    }
    return r;
  }

  private setOut(out: Outgoing, state: OutState, error?: string): void {
    out.state = state;
    out.error = error;
    const r = this.rooms.get(out.room);
    if (r) this.replace(r, 'c:' + out.clientId, (e) => ({ ...e, state, error }));
  }

  private replace(r: Room, key: string, fn: (e: MessageEntry) => MessageEntry): void {
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

  private push(r: Room, e: Entry): void {
    r.entries = [...r.entries, e];
    this.touch(r);
  }

  /** insert puts a message in seq order: before later messages and before our own still-unsent ones. */
  private insert(r: Room, m: MessageEntry): void {
    let i = r.entries.length;
    while (i > 0) {
      const e = r.entries[i - 1];
      if (e.kind !== 'message') break;
      if (e.seq === undefined) {
        i--;
        continue;
      }
      if (e.epoch > m.epoch || (e.epoch === m.epoch && e.seq > (m.seq ?? 0))) {
        i--;
        continue;
      }
      break;
    }
    const next = r.entries.slice();
    next.splice(i, 0, m);
    r.entries = next;
    this.touch(r);
  }

  private touch(r: Room): void {
    r.view = undefined;
    this.changed();
  }

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

  private setStatus(s: Status): void {
    this.status = s;
    this.changed();
    this.emit({ type: 'status', status: s });
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
    const rooms: RoomView[] = [];
    for (const key of this.order) {
      const r = this.rooms.get(key);
      if (!r) continue;
      if (!r.view) {
        r.view = {
          key: r.key,
          name: r.name,
          joined: r.joined,
          wanted: r.wanted,
          gone: r.gone,
          count: r.count,
          topic: r.topic,
          locked: r.locked,
          announcements: r.announcements,
          slowSeconds: r.slowSeconds,
          private: isPrivate(r.name),
          listed: r.listed,
          members: r.members,
          entries: r.entries,
          lastSeq: r.lastSeq,
          unread: r.unread,
          mentions: r.mentions,
          typing: [...r.typing.values()].map((t) => t.member),
        };
      }
      rooms.push(r.view);
    }
    return {
      status: this.status,
      host: this.host,
      me: this.me,
      limits: this.limits,
      rooms,
      active: this.active,
    };
  }
}
