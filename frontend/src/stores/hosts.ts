// The hosts the UI knows: the own host ("This computer" in the desktop app,
// the host that served the page in a browser) and the peers discovery sees.
// Each host that is opened gets one LanchatClient.

import { derived, get, readable, writable, type Readable, type Writable } from 'svelte/store';
import { browserClock } from '../lib/clock';
import { mentionsEveryone } from '../lib/conversation';
import { LanchatClient, mentions, type ClientEvent, type ClientState, type SocketFactory } from '../lib/client';
import { peerHTTP, peerWS, relayWS } from '../lib/peers';
import { isPrivate, roomKey } from '../lib/protocol';
import { browserTus } from '../lib/tus';
import { Uploads, type TusFactory } from '../lib/uploads';
import type { Bridge, Peer, SelfInfo } from '../bridge';

export interface HostEntry {
  key: string;
  name: string;
  own: boolean;
  /** the host's page, for links and the session card */
  http?: string;
  ws?: string;
  members?: number;
  joinCode?: boolean;
  /** the key the host proved, and what this computer makes of it (see Peer.trust) */
  fingerprint?: string;
  trust?: string;
  /** whether the connection is encrypted and the host's key checked (the desktop app's relay) */
  secure?: boolean;
}

export interface HostSession {
  key: string;
  entry: HostEntry;
  client: LanchatClient;
  state: Readable<ClientState>;
  /** the files of our messages to this host, uploading */
  uploads: Uploads;
}

export interface Toast {
  id: number;
  text: string;
  kind: 'error' | 'info';
}

export interface AppDeps {
  bridge: Bridge;
  self: SelfInfo;
  name: string;
  socket?: SocketFactory;
  /** whether the user is looking at the window */
  focused?: () => boolean;
  storage?: Storage;
  device?: string;
  errorText: (code: string, ref?: string) => string;
  tr: (key: string, params?: Record<string, string | number>) => string;
  /** the join code typed on the first-run form, for the own host */
  joinCode?: string;
  /** makes file uploads (tests hand in a fake) */
  tus?: TusFactory;
}

/** Refusals the first-run form answers next to its fields, before the chat screen shows. */
export const FIRST_RUN_REFUSALS = new Set(['name_taken', 'bad_name', 'join_code_required', 'join_code_wrong', 'join_code_throttled']);

/**
 * firstAnswer waits for the own host's first answer to a new member: undefined
 * once it is in (or cannot be reached yet: the chat screen shows the
 * reconnecting), or the refusal the first-run form shows next to a field.
 */
export function firstAnswer(s: HostSession): Promise<string | undefined> {
  return new Promise((resolve) => {
    let done = false;
    let stop: (() => void) | undefined;
    const finish = (code: string | undefined) => {
      if (done) return;
      done = true;
      resolve(code);
      stop?.();
    };
    stop = s.state.subscribe((st) => {
      const status = st.status;
      if (status.kind === 'waiting' && status.reason && FIRST_RUN_REFUSALS.has(status.reason)) finish(status.reason);
      else if (status.kind === 'online' || status.kind === 'waiting' || status.kind === 'closed') finish(undefined);
      else if (status.kind === 'refused') finish(FIRST_RUN_REFUSALS.has(status.code) ? status.code : undefined);
    });
    if (done) stop();
  });
}

const roomsKey = (hostId: string) => `lanchat.rooms.${hostId}`;
const activeKey = (hostId: string) => `lanchat.active.${hostId}`;
const sessionKey = (hostId: string) => `lanchat.session.${hostId}`;
const uploadsKey = (hostId: string) => `lanchat.uploads.${hostId}`;
const announcementsKey = (hostId: string) => `lanchat.announcements.${hostId}`;

/** Errors a client reports that the connection banner already explains. */
const SHOWN_ELSEWHERE = new Set(['name_taken', 'bad_name', 'join_code_required', 'join_code_wrong', 'replaced', 'shutting_down', 'version_unsupported', 'kicked', 'banned']);

export class Hosts {
  readonly peers = writable<Peer[]>([]);
  readonly selected = writable<string>('own');
  readonly toasts = writable<Toast[]>([]);
  readonly sessions = writable<Map<string, HostSession>>(new Map());
  readonly entries: Readable<HostEntry[]>;
  /** unread messages on every host we are connected to */
  readonly unread: Readable<number>;
  /** the window's title: the unread count, the host on screen, the app */
  readonly title: Readable<string>;
  private toastId = 0;
  private stopPeers?: () => void;
  private windowFocused = true;
  private nameStore = writable('');

  /** the own host's name: the desktop app's at start, then what the host says it is (it can be renamed) */
  private ownName: Writable<string>;

  constructor(private deps: AppDeps) {
    this.nameStore.set(deps.name);
    this.ownName = writable(deps.self.name);
    const own: HostEntry = {
      key: 'own',
      name: deps.self.name,
      own: true,
      http: deps.self.join_urls[0],
      ws: deps.self.ws_url,
      joinCode: deps.self.join_code_required,
    };
    this.entries = derived([this.peers, this.ownName], ([peers, ownName]) => {
      const list: HostEntry[] = [{ ...own, name: ownName }];
      const seen = new Set<string>([deps.self.id]);
      for (const p of peers) {
        if (p.self || seen.has(p.id)) continue;
        seen.add(p.id);
        const fp = typeof p.fingerprint === 'string' ? p.fingerprint : undefined;
        const trust = typeof p.trust === 'string' ? p.trust : undefined;
        // The desktop app reaches a host whose key it knows through its own
        // host, which checks the key over TLS; a host that changed its key
        // is not joined at all.
        const secure = deps.bridge.kind === 'desktop' && !!fp && (trust === 'new' || trust === 'pinned') && typeof p.addr === 'string';
        list.push({
          key: 'peer:' + p.id,
          name: p.name,
          own: false,
          http: peerHTTP(p),
          ws: trust === 'changed' ? undefined : secure ? relayWS(deps.self.ws_url, p.addr as string, fp!) : peerWS(p),
          members: typeof p.members === 'number' ? p.members : undefined,
          joinCode: !!p.join_code,
          fingerprint: fp,
          trust,
          secure,
        });
      }
      return list;
    });
    this.unread = readable(0, (set) => {
      let inner: (() => void)[] = [];
      const outer = this.sessions.subscribe((map) => {
        inner.forEach((u) => u());
        const all = [...map.values()];
        const sum = () => set(all.reduce((n, s) => n + totalUnread(get(s.state)), 0));
        inner = all.map((s) => s.state.subscribe(sum));
        sum();
      });
      return () => {
        outer();
        inner.forEach((u) => u());
      };
    });
    this.title = derived([this.unread, this.entries, this.selected], ([n, list, key]) => windowTitle(n, list.find((e) => e.key === key)?.name));
  }

  get name(): Readable<string> {
    return this.nameStore;
  }

  start(): void {
    this.open('own');
    this.stopPeers = this.deps.bridge.onPeers((p) => this.peers.set(p));
    void this.deps.bridge.peers().then(
      (p) => this.peers.update((cur) => (cur.length ? cur : p)),
      () => {},
    );
  }

  stop(): void {
    this.stopPeers?.();
    for (const s of get(this.sessions).values()) {
      s.uploads.stop();
      s.client.close();
    }
    this.sessions.set(new Map());
  }

  /** open connects to a host (once) and selects it. */
  open(key: string): HostSession | undefined {
    const entry = get(this.entries).find((e) => e.key === key);
    if (entry?.trust === 'changed') {
      this.toast(this.deps.tr('trust.changedToast', { host: entry.name }));
      return undefined;
    }
    if (!entry || !entry.ws) return undefined;
    this.selected.set(key);
    let s = get(this.sessions).get(key);
    if (!s) {
      s = this.makeSession(entry);
      const next = new Map(get(this.sessions));
      next.set(key, s);
      this.sessions.set(next);
      s.client.connect();
      // The desktop app remembers the hosts one joins, so they are probed
      // again on the next start even where multicast does not reach.
      if (!entry.own && entry.http && this.deps.bridge.kind === 'desktop') {
        this.deps.bridge.addPeer(entry.http).catch(() => {});
      }
    }
    this.showSelected();
    return s;
  }

  /**
   * windowFocus says whether the person is looking at the window. While not,
   * what arrives counts as unread in every room, the open one too, and so
   * in the window's title; coming back reads the open room.
   */
  windowFocus(focused: boolean): void {
    this.windowFocused = focused;
    this.showSelected();
  }

  /** showSelected tells each host's client whether it is on screen. */
  private showSelected(): void {
    const key = get(this.selected);
    for (const s of get(this.sessions).values()) s.client.setVisible(this.windowFocused && s.key === key);
  }

  sessionsNow(): HostSession[] {
    return [...get(this.sessions).values()];
  }

  session(key: string): HostSession | undefined {
    return get(this.sessions).get(key);
  }

  /** rename sets a new name for every host (after name_taken, or by choice). */
  rename(name: string): void {
    this.nameStore.set(name);
    for (const s of get(this.sessions).values()) {
      s.client.setName(name);
      const st = get(s.state).status;
      if (st.kind === 'refused') s.client.reconnectNow();
    }
  }

  toast(text: string, kind: Toast['kind'] = 'error'): void {
    const id = ++this.toastId;
    this.toasts.update((l) => [...l.slice(-3), { id, text, kind }]);
    setTimeout(() => this.dismiss(id), 8000);
  }

  dismiss(id: number): void {
    this.toasts.update((l) => l.filter((x) => x.id !== id));
  }

  private makeSession(entry: HostEntry): HostSession {
    const storage = this.deps.storage;
    const id = entry.own ? this.deps.self.id : entry.key;
    let rooms: string[] = [];
    let session: string | undefined;
    let active: string | undefined;
    try {
      active = storage?.getItem(activeKey(id)) ?? undefined;
      rooms = JSON.parse(storage?.getItem(roomsKey(id)) ?? '[]');
      session = globalThis.sessionStorage?.getItem(sessionKey(id)) ?? undefined;
    } catch {
      rooms = [];
    }
    const client = new LanchatClient({
      url: entry.ws!,
      name: get(this.nameStore),
      // The host token proves the host role: only the own host ever sees it.
      hostToken: entry.own ? this.deps.self.host_token : undefined,
      device: this.deps.device,
      rooms: Array.isArray(rooms) ? rooms.filter((r) => typeof r === 'string') : [],
      active,
      session,
      socket: this.deps.socket,
      joinCode: entry.own ? this.deps.joinCode : undefined,
      seenAnnouncements: { storage, key: announcementsKey(id) },
    });
    const state = readable<ClientState>(client.state, (set) => client.subscribe(set));
    const uploads = new Uploads({
      client,
      tus: this.deps.tus ?? browserTus,
      clock: browserClock,
      storage,
      storageKey: uploadsKey(id),
      fetch: typeof fetch === 'function' ? (input, init) => fetch(input, init) : undefined,
    });
    const s: HostSession = { key: entry.key, entry, client, state, uploads };
    client.on((e) => this.onEvent(s, e));
    if (entry.own) {
      client.subscribe((st) => {
        if (st.host?.name) this.ownName.set(st.host.name);
      });
    }
    // The rooms one is in, and the one on screen, for the next start.
    let remembered = JSON.stringify(rooms);
    let rememberedActive = active;
    client.subscribe((st) => {
      const wanted = st.rooms.filter((r) => r.wanted && !r.gone && r.key !== 'lobby').map((r) => r.name);
      const sig = JSON.stringify(wanted);
      try {
        if (sig !== remembered) storage?.setItem(roomsKey(id), sig);
        if (st.active !== rememberedActive) storage?.setItem(activeKey(id), st.active);
      } catch {
        /* storage full or blocked */
      }
      remembered = sig;
      rememberedActive = st.active;
    });
    // Keep the session token and rooms for a reload of this tab.
    client.on((e) => {
      if (e.type === 'status' && e.status.kind === 'online') {
        try {
          if (client.sessionToken) globalThis.sessionStorage?.setItem(sessionKey(id), client.sessionToken);
        } catch {
          /* ignore */
        }
      }
    });
    return s;
  }

  private onEvent(s: HostSession, e: ClientEvent): void {
    if (e.type === 'error') {
      if (SHOWN_ELSEWHERE.has(e.code)) return;
      this.toast(this.deps.errorText(e.code, e.ref));
      return;
    }
    if (e.type === 'announcement') {
      const a = e.announcement;
      if (a.from.id === get(s.state).me?.id) {
        this.toast(this.deps.tr('announce.sent'), 'info'); // our own: it went out
        return;
      }
      const text = a.text.slice(0, 200);
      this.toast(this.deps.tr('toast.announcement', { name: a.from.name, host: s.entry.name, text }), 'info');
      const focused = this.deps.focused ? this.deps.focused() : true;
      if (!focused) this.deps.bridge.notify(this.deps.tr('notify.announcement', { name: a.from.name, host: s.entry.name }), text);
      return;
    }
    if (e.type === 'message') {
      const st = get(s.state);
      const me = st.me?.name;
      const focused = this.deps.focused ? this.deps.focused() : true;
      const dm = isPrivate(e.room);
      // a private message for a conversation not on screen: say so in the page as well
      if (dm && (get(this.selected) !== s.key || s.client.state.active !== roomKey(e.room))) {
        const other = get(this.selected) !== s.key;
        this.toast(this.deps.tr(other ? 'toast.dmHost' : 'toast.dm', { name: e.entry.from.name, host: s.entry.name }), 'info');
      }
      if (!focused && (dm || mentions(e.entry.text, me) || mentionsEveryone(e.entry.text, e.entry.from))) {
        const title = this.deps.tr(dm ? 'notify.dm' : 'notify.mention', { name: e.entry.from.name, room: e.room, host: s.entry.name });
        // a message of files only: their names
        const body = e.entry.text || (e.entry.attachments ?? []).map((x) => x.name).join(', ');
        this.deps.bridge.notify(title, body.slice(0, 200));
      }
    }
  }
}

/** windowTitle: "(3) Sala 20 — lanchat", without the count when nothing is unread. */
export function windowTitle(unread: number, where?: string): string {
  return (unread > 0 ? `(${unread}) ` : '') + (where ? `${where} — ` : '') + 'lanchat';
}

/** totalUnread sums a host's unread messages and the announcements not seen yet. */
export function totalUnread(st: ClientState): number {
  return st.rooms.reduce((n, r) => n + r.unread, st.unseenAnnouncements ?? 0);
}
