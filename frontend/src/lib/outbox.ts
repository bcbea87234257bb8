// Outgoing messages. Each shows at once as a pending entry in its room and
// goes out when the room is joined; its ack makes it sent (or, when the ack
// was lost with a connection, the message itself come back in history); no
// ack in time, or an error naming it,
// makes it failed. A retry sends it again under the same client_id, so the
// host's dedupe keeps one copy.
//
// A message with files is held: it shows as pending while its files upload
// (uploads.ts) and goes out, with the uploads' ids as attachments, when they
// are released; from then on it is like any other.

import { randomId } from './clock';
import type { Claims } from './history';
import type { ClientFrame, EventBody, EventOut, Member, Send } from './protocol';
import type { Room, Rooms } from './rooms';
import type { Clock, LocalFile, MessageEntry, OutState } from './types';

interface Outgoing {
  clientId: string;
  /** the room's key (it follows a rename) */
  room: string;
  text: string;
  state: OutState;
  error?: string;
  timer?: unknown;
  /** the order of sending: flush keeps it */
  seq: number;
  /** files still uploading: the message waits for release */
  held?: boolean;
  /** the upload ids the message carries */
  attachments?: string[];
  /** the seq of the message it replies to */
  replyTo?: number;
  /**
   * an event (a reaction, an edit, a vote, a poll or its closing): the
   * frame, sent as it is under the client_id. It shows no entry of its
   * own; its echo acts on the message it names, or (a poll) is one.
   */
  event?: EventBody;
}

export interface OutboxDeps {
  clock: Clock;
  rooms: Rooms;
  ackTimeoutMs: number;
  transmit(f: ClientFrame): void;
  /** ready says whether a message for the room can go out now (online, and the room joined, not resyncing) */
  ready(r: Room): boolean;
  /** sent: the host stored the message (its ack, or the message found in history) */
  sent?(clientId: string, room: string): void;
}

/** ownKey is the entry key of our own message: it stays the same from pending to sent. */
export function ownKey(clientId: string): string {
  return 'c:' + clientId;
}

export class Outbox implements Claims {
  private readonly items = new Map<string, Outgoing>();
  private seq = 0;

  constructor(private readonly deps: OutboxDeps) {}

  /**
   * add shows text in a room as pending, sends it if the room is ready, and
   * returns its client_id. With files, the message is held: it shows them and
   * waits for release.
   */
  add(r: Room, text: string, from: Member, files?: LocalFile[], reply?: { seq: number; from?: Member }): string {
    const { clock, rooms } = this.deps;
    const clientId = randomId('c-', clock);
    const out: Outgoing = { clientId, room: r.key, text, state: 'pending', seq: ++this.seq };
    if (files?.length) out.held = true;
    if (reply) out.replyTo = reply.seq;
    this.items.set(clientId, out);
    const entry: MessageEntry = { kind: 'message', key: ownKey(clientId), room: r.name, epoch: r.epoch, from, text, ts: clock.now(), clientId, own: true, state: 'pending' };
    if (files?.length) entry.files = files.map((f) => ({ ...f }));
    if (reply) {
      entry.replyTo = reply.seq;
      if (reply.from) entry.replyFrom = reply.from;
    }
    rooms.push(r, entry);
    if (!out.held && this.deps.ready(r)) this.transmit(out);
    return clientId;
  }

  /**
   * addEvent sends an event (a reaction, an edit, a vote, a poll or its
   * closing) to a room when it is ready, and again after a reconnect until
   * the host acks it or refuses it; it returns its client_id. It shows
   * nothing by itself: its echo does.
   */
  addEvent(r: Room, event: EventBody): string {
    const clientId = randomId('c-', this.deps.clock);
    const out: Outgoing = { clientId, room: r.key, text: '', state: 'pending', seq: ++this.seq, event };
    this.items.set(clientId, out);
    if (this.deps.ready(r)) this.transmit(out);
    return clientId;
  }

  /** claimEvent: our event came back with a seq (its ack was lost with a connection): it is done. */
  claimEvent(clientId: string, room: string): void {
    const out = this.items.get(clientId);
    if (!out?.event || out.room !== room) return;
    this.stopTimer(out);
    this.items.delete(clientId);
  }

  /** release sends a held message, its files uploaded, with the uploads' ids as its attachments. */
  release(clientId: string, attachments: string[]): void {
    const out = this.items.get(clientId);
    if (!out || !out.held) return;
    out.held = false;
    out.attachments = attachments;
    this.set(out, 'pending');
    const r = this.deps.rooms.get(out.room);
    if (r && this.deps.ready(r)) this.transmit(out);
  }

  /** hold makes a message wait for its files again (they upload once more); false when it is no message of ours that may. */
  hold(clientId: string): boolean {
    const out = this.items.get(clientId);
    if (!out || out.state === 'sent') return false;
    this.stopTimer(out);
    out.held = true;
    out.attachments = undefined;
    this.set(out, 'pending');
    return true;
  }

  /** isHeld: the message waits for its files. */
  isHeld(clientId: string): boolean {
    return !!this.items.get(clientId)?.held;
  }

  /** retry sends a failed message again under the same client_id (or when its room is ready). A held message waits for its files. */
  retry(clientId: string): void {
    const out = this.items.get(clientId);
    if (!out || out.state !== 'failed') return;
    this.set(out, 'pending');
    const r = this.deps.rooms.get(out.room);
    if (!out.held && r && this.deps.ready(r)) this.transmit(out);
  }

  /** discard removes a failed message, or a held one (its upload cancelled), from the view too. */
  discard(clientId: string): void {
    const out = this.items.get(clientId);
    if (!out || (out.state !== 'failed' && !out.held)) return;
    this.items.delete(clientId);
    const r = this.deps.rooms.get(out.room);
    if (r) this.deps.rooms.remove(r, ownKey(clientId));
  }

  /** flush sends what waits for the room: pending messages and those that timed out. */
  flush(r: Room): void {
    const waiting = [...this.items.values()]
      .filter((o) => o.room === r.key && !o.held && (o.state === 'pending' || (o.state === 'failed' && o.error === 'timeout')))
      .sort((a, b) => a.seq - b.seq);
    for (const out of waiting) {
      if (out.state === 'failed') this.set(out, 'pending');
      this.transmit(out);
    }
  }

  /** claim: our message came back with a seq (live or in history); the caller patches its entry. */
  claim(clientId: string, room: string): string | undefined {
    const out = this.items.get(clientId);
    if (!out || out.room !== room) return undefined;
    this.stopTimer(out);
    out.held = false;
    out.state = 'sent';
    out.error = undefined;
    this.deps.sent?.(clientId, room);
    return ownKey(clientId);
  }

  /**
   * ack: the host stored the message under seq and id. This is the send's
   * one completion: when seq is next in the room's order it advances the
   * room's seq, so the echo that follows is dropped by seq (by id otherwise).
   * Only a message of ours found in history, after its ack was lost with a
   * connection, is completed by claim instead.
   */
  ack(clientId: string, seq: number, id: string, ts: number): void {
    const out = this.items.get(clientId);
    if (!out) return;
    this.stopTimer(out);
    if (out.event) {
      // Done. Its echo (next) acts on its message, or shows the poll, as anyone's does.
      this.items.delete(clientId);
      this.deps.sent?.(clientId, out.room);
      return;
    }
    out.held = false;
    out.state = 'sent';
    out.error = undefined;
    this.deps.sent?.(clientId, out.room);
    const r = this.deps.rooms.get(out.room);
    if (!r) return;
    const key = ownKey(clientId);
    r.ids.add(id);
    r.bySeq.set(seq, key);
    if (seq === r.lastSeq + 1) r.lastSeq = seq;
    this.deps.rooms.replace(r, key, (e) => ({ ...e, seq, epoch: r.epoch, id, ts, state: 'sent', error: undefined }));
  }

  /** answered: an error names the message; it waits no longer for an ack. It returns the key of the message's room, or undefined when the ref is no message of ours. */
  answered(clientId: string): string | undefined {
    const out = this.items.get(clientId);
    if (!out) return undefined;
    this.stopTimer(out);
    return out.room;
  }

  /** fail marks a message failed, for a reason (an error code). */
  fail(clientId: string, reason: string): void {
    const out = this.items.get(clientId);
    if (out?.event) this.items.delete(clientId); // refused: the error says why, nothing shows it
    else if (out) this.set(out, 'failed', reason);
  }

  /** disconnected stops waiting for acks: they went with the connection (a flush after the next join sends again). */
  disconnected(): void {
    for (const out of this.items.values()) this.stopTimer(out);
  }

  /** renamed moves what waits for a room to its new key. */
  renamed(oldKey: string, newKey: string): void {
    for (const out of this.items.values()) if (out.room === oldKey) out.room = newKey;
  }

  private transmit(out: Outgoing): void {
    const { clock, rooms } = this.deps;
    const room = rooms.get(out.room)?.name ?? out.room;
    if (out.event) {
      this.deps.transmit({ ...out.event, room, client_id: out.clientId } as EventOut);
    } else {
      const f: Send = { type: 'send', room, client_id: out.clientId, text: out.text };
      if (out.attachments?.length) f.attachments = out.attachments;
      if (out.replyTo) f.reply_to = out.replyTo;
      this.deps.transmit(f);
    }
    this.stopTimer(out);
    out.timer = clock.setTimeout(() => {
      out.timer = undefined;
      if (out.state === 'pending') this.set(out, 'failed', 'timeout');
    }, this.deps.ackTimeoutMs);
  }

  private stopTimer(out: Outgoing): void {
    if (out.timer === undefined) return;
    this.deps.clock.clearTimeout(out.timer);
    out.timer = undefined;
  }

  /** set moves a message to a state and shows it. */
  private set(out: Outgoing, state: OutState, error?: string): void {
    out.state = state;
    out.error = error;
    const r = this.deps.rooms.get(out.room);
    if (r) this.deps.rooms.replace(r, ownKey(out.clientId), (e) => ({ ...e, state, error }));
  }
}
