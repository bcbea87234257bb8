// What the host sends, each frame to the part it is for (docs/protocol.md).
// The welcome and the errors take a few parts each: a welcome carries who we
// are, the other boxes of the cluster, announcements and the rooms; an
// error names one of our messages, a room, or (no ref) our message search.

import type { Announcements } from './announcements';
import type { Connection } from './connection';
import type { MemberSearches } from './membersearch';
import type { MessageSearch } from './messagesearch';
import type { Outbox } from './outbox';
import { wsFromHTTP } from './peers';
import type { Announcement, ErrorFrame, ServerFrame, Welcome } from './protocol';
import type { Room, Rooms } from './rooms';
import type { RoomSync } from './roomsync';
import type { Session } from './session';
import type { ClientEvent } from './types';

export interface FrameHandlerDeps {
  conn: Connection;
  session: Session;
  rooms: Rooms;
  outbox: Outbox;
  sync: RoomSync;
  messageSearch: MessageSearch;
  memberSearches: MemberSearches;
  announcements: Announcements;
  /** how long a typing hint lasts */
  typingMs: number;
  changed(): void;
  emit(e: ClientEvent): void;
}

export class FrameHandler {
  constructor(private readonly deps: FrameHandlerDeps) {}

  /** handle takes one frame from the host. */
  handle(f: ServerFrame): void {
    const { session, rooms, outbox, sync, messageSearch, typingMs } = this.deps;
    // a frame about one room goes to fn when we know the room, and is dropped when we do not
    const withRoom = (name: string, fn: (r: Room) => void): void => {
      const r = rooms.find(name);
      if (r) fn(r);
    };
    switch (f.type) {
      case 'welcome':
        return this.welcome(f);
      case 'joined':
        return sync.joined(f);
      case 'left':
        return withRoom(f.room, (r) => rooms.toIdle(r));
      case 'ack':
        return outbox.ack(f.client_id, f.seq, f.id, f.ts);
      case 'message':
      case 'poll':
      case 'reaction':
      case 'edited':
      case 'vote':
      case 'poll_closed':
        return withRoom(f.room, (r) => sync.accept(r, f));
      case 'typing':
        return withRoom(f.room, (r) => {
          if (f.from && !session.mine(f.from.id)) rooms.typing(r, f.from, typingMs);
        });
      case 'presence':
        return withRoom(f.room, (r) => rooms.presence(r, f, session.me?.id, session.formerIds));
      case 'rooms':
        return rooms.list(f.rooms);
      case 'error':
        return this.error(f);
      case 'deleted':
        return withRoom(f.room, (r) => sync.deleted(r, f));
      case 'renamed':
        return sync.renamed(f.room, f.name);
      case 'closed':
        return withRoom(f.room, (r) => sync.closed(r));
      case 'members':
        return withRoom(f.room, (r) => rooms.membersList(r, f));
      case 'search_results':
        return messageSearch.answered(f);
      case 'history':
        return messageSearch.older(f);
      case 'pinned':
        return withRoom(f.room, (r) => rooms.pin(r, f.message));
      case 'announcement':
        return this.announced([f]);
      case 'host':
        // the host was renamed: the same host (its id), a new name
        if (session.hostRenamed(f.host)) this.deps.changed();
        return;
      case 'limits':
        if (session.newLimits(f.limits)) this.deps.changed();
        return;
      case 'member': {
        const m = f.member;
        if (!m?.id) return;
        // the frame carries the whole member: an absent muted or role means none
        session.member(m);
        rooms.member(m);
        return;
      }
    }
  }

  private welcome(w: Welcome): void {
    const { conn, session, rooms, sync } = this.deps;
    // A welcome from another box of the cluster than the one we were on: the
    // failover went there. Each box has its own host id, but the same rooms,
    // seqs and epoch: everything carries over.
    const failedOver = conn.url !== conn.home;
    // A different host answers at this address: nothing carries over.
    if (session.welcomed(w, failedOver)) for (const r of rooms.values()) rooms.reset(r);
    const boxes: string[] = [];
    for (const link of w.boxes ?? []) {
      try {
        boxes.push(wsFromHTTP(link));
      } catch {
        /* not a URL: skip it */
      }
    }
    conn.setBoxes(boxes);
    // welcome.epoch (the id of the host's history database) is deliberately
    // not acted on here: every room we are in gets a joined, which carries the
    // same epoch, and RoomSync.joined handles a changed one room by room.
    // Resetting here could not save a round trip anyway: the host answers the
    // rooms named in hello.resume by itself, from the seqs we sent before we
    // knew.
    if (Array.isArray(w.announcements)) this.announced(w.announcements);
    rooms.list(w.rooms ?? []);
    sync.welcomed(w);
    conn.welcome();
  }

  private error(e: ErrorFrame): void {
    const { conn, rooms, outbox, sync, messageSearch, memberSearches } = this.deps;
    conn.error(e.code);
    const ref = e.ref ?? '';
    const outRoom = ref ? outbox.answered(ref) : undefined;
    if (outRoom !== undefined) {
      // the error names one of our messages
      const r = rooms.get(outRoom);
      if (e.code === 'not_in_room' && r && r.wanted && r.state !== 'gone') {
        // we thought we were in: join again, and the message goes out after
        sync.notInRoom(r);
      } else {
        if (e.code === 'no_such_room' && r) sync.markGone(r);
        outbox.fail(ref, e.code);
      }
    } else if (ref) {
      // the error names a room
      const r = rooms.find(ref);
      if (r) {
        if (e.code === 'rate_limited') memberSearches.rateLimited(r);
        sync.refused(r, e.code);
        // a history query refused: do not wait for its answer
        r.loadingOlder = undefined;
      }
    } else {
      // no ref: maybe the answer to our search
      messageSearch.refused(e.code);
    }
    this.deps.emit({ type: 'error', code: e.code, ref: e.ref, message: e.message });
  }

  /** announced takes announcements (live, or a welcome's) and tells the listeners of the newest one new to us (see Announcements.take). */
  private announced(list: Announcement[]): void {
    const newest = this.deps.announcements.take(list);
    if (!newest) return;
    this.deps.changed();
    this.deps.emit({ type: 'announcement', announcement: newest });
  }
}
