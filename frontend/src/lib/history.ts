// The message merge: what arrives (a live message, or a joined frame's
// history) goes into a room's entries in seq order, once. Duplicates drop out
// by seq, by id, and copies of our own messages by client_id (they patch the
// pending entry instead of adding one).

import { applyEvent, conversationFields, isEvent, isShown } from './conversation';
import type { Message } from './protocol';
import type { Room } from './rooms';
import type { Entry, MessageEntry } from './types';

/**
 * What a message next in seq order shows: a new entry, a patch of our own
 * pending one, or an event that acts on an earlier entry (the caller applies
 * it, see Rooms.applyEvent).
 */
export type Taken =
  | { kind: 'new'; entry: MessageEntry }
  | { kind: 'own'; key: string; patch: Partial<MessageEntry> }
  | { kind: 'event'; event: Message };

/** The outbox, as take sees it: it claims a message that is our own. */
export interface Claims {
  /** claim marks the message of that client_id in that room (a key) sent and returns its entry's key; undefined if it is not ours. */
  claim(clientId: string, room: string): string | undefined;
  /** claimEvent marks our event (a reaction, an edit, a vote…) of that client_id done: it came back with a seq. */
  claimEvent?(clientId: string, room: string): void;
}

/** eventKey is what bySeq holds for the seq of an event: it is seen, and is no entry. */
export const EVENT_KEY = 'e:';

/**
 * take does the bookkeeping for a message next in seq order (the caller has
 * checked its seq) and says what to show: nothing (a duplicate by id), a
 * patch for our own entry (matched by client_id), or a new entry. mine says
 * whether a member id is us (now, or under an id we had on an earlier box).
 */
export function take(r: Room, m: Message, outbox: Claims, mine: (memberId: string) => boolean): Taken | undefined {
  r.lastSeq = Math.max(r.lastSeq, m.seq);
  if (r.ids.has(m.id)) return undefined;
  r.ids.add(m.id);
  if (!isShown(m)) {
    // an event, or a type this client does not know: its seq is seen, nothing shows
    r.bySeq.set(m.seq, EVENT_KEY + m.seq);
    if (!isEvent(m)) return undefined;
    if (m.client_id) outbox.claimEvent?.(m.client_id, r.key);
    return { kind: 'event', event: m };
  }
  const key = m.client_id ? outbox.claim(m.client_id, r.key) : undefined;
  if (key) {
    r.bySeq.set(m.seq, key);
    const patch: Partial<MessageEntry> = { seq: m.seq, epoch: r.epoch, id: m.id, ts: m.ts, from: m.from, state: 'sent', error: undefined };
    if (m.attachments?.length && !m.deleted) Object.assign(patch, { attachments: m.attachments, files: undefined });
    Object.assign(patch, conversationFields(m));
    return { kind: 'own', key, patch };
  }
  const entry = entryOf(r, m, mine);
  r.bySeq.set(m.seq, entry.key);
  return { kind: 'new', entry };
}

/** entryOf is the entry that shows a message of a room (not one of our pending ones). */
export function entryOf(r: Room, m: Message, mine: (memberId: string) => boolean): MessageEntry {
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
  else if (Array.isArray(m.attachments) && m.attachments.length) entry.attachments = m.attachments;
  if (m.from && mine(m.from.id)) entry.own = true;
  let e: MessageEntry = Object.assign(entry, conversationFields(m));
  // events that came before this message did (it was older than what we had)
  const waiting = r.orphans.get(m.seq);
  if (waiting) {
    r.orphans.delete(m.seq);
    for (const ev of waiting) e = applyEvent(e, ev);
  }
  return e;
}

/** oldestSeq is the lowest seq a room shows of its current history (undefined: none). */
export function oldestSeq(r: Pick<Room, 'entries' | 'epoch'>): number | undefined {
  let low: number | undefined;
  for (const e of r.entries) {
    if (e.kind === 'message' && e.seq !== undefined && e.epoch === r.epoch && (low === undefined || e.seq < low)) low = e.seq;
  }
  return low;
}

/**
 * takeOlder does the bookkeeping for a history answer (messages older than
 * what the room shows) and returns the entries to put before the rest, in
 * seq order: only messages below the oldest seq shown, each once. The
 * room's last seq does not move.
 */
export function takeOlder(r: Room, hist: Message[], mine: (memberId: string) => boolean): MessageEntry[] {
  const below = oldestSeq(r) ?? r.lastSeq + 1;
  const out: MessageEntry[] = [];
  const events: Message[] = [];
  for (const m of [...hist].sort((a, b) => (a?.seq ?? 0) - (b?.seq ?? 0))) {
    if (!m || typeof m.seq !== 'number' || typeof m.id !== 'string' || m.seq >= below || r.ids.has(m.id)) continue;
    r.ids.add(m.id);
    if (!isShown(m)) {
      r.bySeq.set(m.seq, EVENT_KEY + m.seq);
      if (isEvent(m)) events.push(m);
      continue;
    }
    const e = entryOf(r, m, mine);
    r.bySeq.set(m.seq, e.key);
    out.push(e);
  }
  // an event acts on its message when this batch has it; one older still waits for it
  for (const ev of events) {
    const i = out.findIndex((e) => e.seq === ev.target);
    if (i >= 0) out[i] = applyEvent(out[i], ev);
    else if (typeof ev.target === 'number') r.orphans.set(ev.target, [...(r.orphans.get(ev.target) ?? []), ev]);
  }
  return out;
}

/**
 * mergeOlder puts older messages (from takeOlder) before the room's first
 * message of their history that has a later seq: above what was shown.
 */
export function mergeOlder(entries: Entry[], added: MessageEntry[]): Entry[] {
  if (!added.length) return entries;
  const last = added[added.length - 1];
  const i = entries.findIndex((e) => e.kind === 'message' && e.seq !== undefined && e.epoch === last.epoch && e.seq > (last.seq ?? 0));
  const at = i < 0 ? 0 : i;
  return [...entries.slice(0, at), ...added, ...entries.slice(at)];
}

/**
 * startedOver reports whether a host's history started over (a host without
 * a data dir restarted, or its data dir was wiped). A host that names its
 * history (joined.epoch) says so exactly: the epoch changed. Without two
 * epochs to compare (the host sends none, or we have none from it yet), the
 * fallback is that the host has fewer messages than we saw. A room where we
 * had seen nothing (lastSeq 0) got all of it anyway.
 */
export function startedOver(r: Room, j: { epoch?: string; last_seq: number }): boolean {
  const was = r.historyEpoch;
  return r.lastSeq > 0 && (j.epoch && was ? j.epoch !== was : j.last_seq < r.lastSeq);
}

/**
 * catchUp takes a joined frame's history into a room whose history goes on
 * (see startedOver): what to merge, as takeHistory, and whether messages
 * are missing before it or after it (more than the host keeps, or sends on
 * joining), which the user is told about in those places. The room's seq
 * ends at lastSeq.
 */
export function catchUp(
  r: Room,
  hist: Message[],
  lastSeq: number,
  outbox: Claims,
  mine: (memberId: string) => boolean,
): { added: MessageEntry[]; patches: Map<string, Partial<MessageEntry>>; events: Message[]; filled: MessageEntry[]; gapBefore: boolean; gapAfter: boolean } {
  let gapBefore = false;
  let gapAfter = false;
  if (hist.length && hist[0].seq > r.lastSeq + 1) {
    gapBefore = r.lastSeq > 0;
    r.lastSeq = hist[0].seq - 1;
  }
  const taken = takeHistory(r, hist, outbox, mine);
  if (lastSeq > r.lastSeq) {
    gapAfter = r.lastSeq > 0;
    r.lastSeq = lastSeq;
  }
  return { ...taken, gapBefore, gapAfter };
}

/**
 * takeHistory does take's bookkeeping for a joined frame's history and
 * returns what to merge (see mergeHistory): the new entries in seq order and
 * the patches of our own. What is at or below the room's last seq is skipped.
 */
export function takeHistory(
  r: Room,
  hist: Message[],
  outbox: Claims,
  mine: (memberId: string) => boolean,
): { added: MessageEntry[]; patches: Map<string, Partial<MessageEntry>>; events: Message[]; filled: MessageEntry[] } {
  const added: MessageEntry[] = [];
  const filled: MessageEntry[] = [];
  const patches = new Map<string, Partial<MessageEntry>>();
  const events: Message[] = [];
  // new entries of this batch by seq, so its events act on them in place
  const here = new Map<number, { list: MessageEntry[]; i: number }>();
  const last = r.lastSeq;
  for (const m of hist) {
    if (typeof m.seq !== 'number') continue;
    // At or below the room's last seq: what we have is skipped; what we do
    // not have is older than our window (we asked for it, to show a reply's
    // original) and fills in.
    if (m.seq <= last && (r.bySeq.has(m.seq) || r.ids.has(m.id))) continue;
    const t = take(r, m, outbox, mine);
    if (!t) continue;
    if (t.kind === 'own') {
      patches.set(t.key, t.patch);
    } else if (t.kind === 'event') {
      const at = here.get(t.event.target ?? -1);
      if (at) at.list[at.i] = applyEvent(at.list[at.i], t.event);
      else events.push(t.event);
    } else {
      const list = m.seq <= last ? filled : added;
      here.set(m.seq, { list, i: list.length });
      list.push(t.entry);
      if (m.seq > last) r.typing.delete(m.from.id);
    }
  }
  return { added, patches, events, filled };
}

/** fillHistory puts older entries (ascending seq) in place: each before the first entry of its epoch with a later seq. */
export function fillHistory(entries: Entry[], filled: MessageEntry[]): Entry[] {
  if (!filled.length) return entries;
  const out = entries.slice();
  for (const m of filled) {
    let i = out.findIndex((e) => e.kind === 'message' && e.seq !== undefined && e.epoch === m.epoch && e.seq > (m.seq ?? 0));
    if (i < 0) i = out.length;
    out.splice(i, 0, m);
  }
  return out;
}

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
export function mergeHistory(entries: Entry[], added: MessageEntry[], patches: Map<string, Partial<MessageEntry>>): Entry[] {
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

/** insert returns entries with a message put in seq order: before later messages and before our own still-unsent ones. */
export function insert(entries: Entry[], m: MessageEntry): Entry[] {
  let i = entries.length;
  while (i > 0) {
    const e = entries[i - 1];
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
  const next = entries.slice();
  next.splice(i, 0, m);
  return next;
}
