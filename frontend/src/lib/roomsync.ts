// Being in rooms, and keeping each room's log in step with the host: the
// joins we ask for (and those the host makes by itself after a resume), a
// joined frame's catch-up, live messages in seq order (a gap makes the room
// resync: a re-join with since), and a room's end (closed, gone, renamed).
// Each room's state and its transitions are rooms.ts's; the merge of what
// comes is history.ts's.

import type { ActiveRoom } from './activeroom';
import type { Connection } from './connection';
import { mentionsEveryone } from './conversation';
import { mentions } from './format';
import { catchUp, EVENT_KEY, startedOver, take } from './history';
import type { Outbox } from './outbox';
import { LOBBY, roomKey, type ClientFrame, type Deleted, type Joined, type Message, type Welcome } from './protocol';
import { awaitingJoin, inRoom, type Room, type Rooms } from './rooms';
import type { Session } from './session';
import type { ClientEvent } from './types';

/** Errors that name a room we asked to join (or create, or open a conversation in): that join is off. */
const JOIN_REFUSALS: ReadonlySet<string> = new Set(['bad_room_name', 'forbidden', 'room_exists', 'too_many_rooms', 'no_such_member']);

export interface RoomSyncDeps {
  rooms: Rooms;
  outbox: Outbox;
  /** who we are: which messages and members are ours */
  session: Session;
  /** where a new message counts as unread; it follows a room that is renamed or goes */
  active: ActiveRoom;
  conn: Pick<Connection, 'online' | 'transmit'>;
  emit(e: ClientEvent): void;
  /** caughtUp: a room's joined frame is taken in and what waited in the outbox went out; what else waits for it may go now */
  caughtUp(r: Room): void;
}

export class RoomSync {
  /** rooms named in the last hello's resume: the host joins us to them by itself */
  private readonly resuming = new Set<string>();

  constructor(private readonly deps: RoomSyncDeps) {}

  /** resume names the rooms the hello can resume, with the last seq we have of each. */
  resume(): Record<string, number> {
    const rooms: Record<string, number> = {};
    this.resuming.clear();
    for (const r of this.deps.rooms.values()) {
      if (r.wanted && r.known && r.state !== 'gone') {
        rooms[r.name] = r.lastSeq;
        this.resuming.add(r.key);
      }
    }
    return rooms;
  }

  /** welcomed: the rooms the welcome says are gone go; every other room we want is joined, or about to be. */
  welcomed(w: Welcome): void {
    const { rooms } = this.deps;
    for (const name of w.gone_rooms ?? []) {
      const r = rooms.find(name);
      if (r) this.markGone(r);
    }
    for (const r of rooms.values()) {
      if (!r.wanted || r.state === 'gone') continue;
      // The lobby, and the rooms named in hello.resume: the host sends joined by itself.
      if (r.key === LOBBY || this.resuming.has(r.key)) rooms.toJoining(r);
      else this.requestJoin(r);
    }
  }

  /** join: the user wants to be in a room (a gone one too: it is asked for again). */
  join(name: string): void {
    const { rooms } = this.deps;
    if (!roomKey(name)) return;
    const r = rooms.room(name);
    r.wanted = true;
    rooms.revive(r);
    rooms.touch(r);
    if (this.deps.conn.online && !inRoom(r)) this.requestJoin(r);
  }

  /** leave: the user no longer wants to be in a room (never the lobby). */
  leave(name: string): void {
    const { rooms, conn } = this.deps;
    const r = rooms.find(name);
    if (!r || r.key === LOBBY) return;
    r.wanted = false;
    rooms.touch(r);
    if (conn.online && (inRoom(r) || awaitingJoin(r))) conn.transmit({ type: 'leave', room: r.name });
  }

  /** ensureLoaded: see LanchatClient.ensureLoaded. */
  ensureLoaded(roomName: string, seq: number): boolean {
    const r = this.deps.rooms.find(roomName);
    if (!r) return false;
    if (r.bySeq.has(seq) && !r.bySeq.get(seq)!.startsWith(EVENT_KEY)) return true;
    if (seq >= 1 && this.deps.conn.online) this.resync(r, seq - 1);
    return false;
  }

  /** requestJoin asks to be in a room, from the last seq we have when the resume could name it. */
  private requestJoin(r: Room): void {
    this.deps.rooms.toJoining(r);
    const f: ClientFrame = { type: 'join', room: r.name };
    if (r.known) f.since = r.lastSeq;
    this.deps.conn.transmit(f);
  }

  /** resync asks again, from since, for a joined room (a gap, or its history started over); what is sent waits for the answer. */
  private resync(r: Room, since: number): void {
    if (this.deps.rooms.toResyncing(r)) this.deps.conn.transmit({ type: 'join', room: r.name, since });
  }

  /** joined takes the host's joined frame: the room's members, and the history since what we have. */
  joined(j: Joined): void {
    const { rooms, outbox, session } = this.deps;
    const r = rooms.room(j.room, j.room);
    const hist = j.history ?? [];
    // the box we failed over from may still list us under an earlier id: that is no one else
    const formerIds = session.formerIds;
    rooms.joined(r, formerIds.size && j.members ? { ...j, members: j.members.filter((m) => !formerIds.has(m.id)) } : j, session.me?.id);
    rooms.toJoined(r);
    // A history that started over: seqs from before mean nothing now. Keep
    // what we show, start counting afresh, fetch it all.
    if (startedOver(r, j)) {
      rooms.reset(r);
      r.historyEpoch = j.epoch;
      rooms.notice(r, 'reset');
      this.resync(r, 0);
      return;
    }
    if (j.epoch) r.historyEpoch = j.epoch;
    r.known = true;
    this.deps.active.joined(r);
    const { added, patches, events, filled, gapBefore, gapAfter } = catchUp(r, hist, j.last_seq, outbox, session.mine);
    if (gapBefore) rooms.notice(r, 'gap');
    rooms.fill(r, filled);
    rooms.merge(r, added, patches);
    for (const ev of events) rooms.applyEvent(r, ev);
    if (gapAfter) rooms.notice(r, 'gap');
    if (typeof j.first_kept === 'number') r.firstKept = j.first_kept;
    outbox.flush(r);
    this.deps.caughtUp(r);
  }

  /**
   * accept takes a live message into a room: drops duplicates (by seq, by id,
   * and copies of our own messages by client_id) and detects gaps, which make
   * the client re-join with since.
   */
  accept(r: Room, m: Message): void {
    const { rooms, session } = this.deps;
    if (typeof m.seq !== 'number') return;
    if (m.seq <= r.lastSeq) {
      this.described(r, m);
      return;
    }
    if (m.seq > r.lastSeq + 1) {
      // a gap: ask for what is missing (once; a room already resyncing waits for its answer)
      this.resync(r, r.lastSeq);
      return;
    }
    const t = take(r, m, this.deps.outbox, session.mine);
    if (!t) return;
    if (t.kind === 'event') {
      rooms.applyEvent(r, t.event);
      return;
    }
    if (t.kind === 'own') {
      rooms.replace(r, t.key, (e) => ({ ...e, ...t.patch }));
      return;
    }
    const entry = t.entry;
    rooms.insert(r, entry);
    r.typing.delete(m.from.id);
    if (!entry.own) {
      if (!this.deps.active.sees(r)) {
        r.unread++;
        if (mentions(m.text, session.me?.name) || mentionsEveryone(m.text, m.from)) r.mentions++;
      }
      this.deps.emit({ type: 'message', room: r.name, entry });
    }
  }

  /**
   * described takes the files of a message we already have: our own, whose
   * ack came first (it carries no attachments), so the echo that follows
   * says what the host stored.
   */
  private described(r: Room, m: Message): void {
    if (!Array.isArray(m.attachments) || !m.attachments.length || m.deleted) return;
    const key = r.bySeq.get(m.seq);
    if (!key) return;
    const e = r.entries.find((x) => x.key === key);
    if (e?.kind !== 'message' || e.attachments || e.deleted || !e.own) return;
    const attachments = m.attachments;
    this.deps.rooms.replace(r, key, (x) => ({ ...x, attachments, files: undefined }));
  }

  /** deleted: a message of the room was deleted; its entry stays, empty. */
  deleted(r: Room, f: Deleted): void {
    const key = r.bySeq.get(f.seq);
    const e = r.entries.find((x) => (key && x.key === key) || (x.kind === 'message' && x.id === f.id));
    if (e) this.deps.rooms.replace(r, e.key, (m) => ({ ...m, text: '', deleted: true, attachments: undefined, files: undefined }));
  }

  /** renamed: the host renamed a room; the active room and the outbox's messages for it follow. */
  renamed(from: string, to: string): void {
    const { rooms, outbox } = this.deps;
    const r = rooms.find(from);
    if (!r) return;
    const oldKey = r.key;
    this.deps.active.renamed(oldKey, to);
    rooms.rename(r, to);
    outbox.renamed(oldKey, r.key);
  }

  /** closed: the host closed the room. */
  closed(r: Room): void {
    this.deps.active.closed(r);
    this.deps.rooms.toGone(r);
    this.deps.rooms.notice(r, 'closed');
  }

  /** markGone: the host says the room does not exist. A room that never did goes without a notice, and the user goes back to where they were. */
  markGone(r: Room): void {
    const was = inRoom(r) || r.known || r.entries.length > 0;
    if (!was) this.deps.active.neverWas(r);
    this.deps.rooms.toGone(r);
    if (was) this.deps.rooms.notice(r, 'gone');
  }

  /** notInRoom: the host refused one of our messages because we are not in its room, which we thought we were: join again (unless a join is on its way), and the message goes out after. */
  notInRoom(r: Room): void {
    if (awaitingJoin(r)) this.deps.rooms.toJoining(r);
    else this.requestJoin(r);
  }

  /** refused: an error names the room: it does not exist, or a join of ours is off. */
  refused(r: Room, code: string): void {
    if (code === 'no_such_room') this.markGone(r);
    else if (JOIN_REFUSALS.has(code)) this.deps.rooms.joinRefused(r);
  }
}
