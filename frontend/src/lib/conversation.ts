// Conversations: replies, reactions, edits, polls and mentions
// (docs/protocol.md, "Conversations"). A room's log holds messages, polls and
// events that act on an earlier one (target); a message as shown is the fold
// of its events, which applyEvent does one event at a time, in seq order.
// The host's chat.Fold does the same for transcripts.

import { EVENT_TYPES, type Member, type Message } from './protocol';
import type { Entry, MessageEntry, PollState, Reaction } from './types';

/** The quick-pick reactions. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '✅', '❓'] as const;

/** isEvent: the log entry acts on another (a reaction, an edit, a vote, a poll's closing) rather than being shown. */
export function isEvent(m: Pick<Message, 'type'>): boolean {
  return EVENT_TYPES.has(m.type);
}

/** isShown: a message or a poll (an entry of the list); a type this client does not know is neither. */
export function isShown(m: Pick<Message, 'type'>): boolean {
  return m.type === undefined || m.type === 'message' || m.type === 'poll';
}

/** conversationFields are the fields a new entry takes from a message or poll: what it replies to, a poll's options. */
export function conversationFields(m: Message): Partial<MessageEntry> {
  const out: Partial<MessageEntry> = {};
  if (typeof m.reply_to === 'number' && m.reply_to > 0) {
    out.replyTo = m.reply_to;
    if (m.reply_from) out.replyFrom = m.reply_from;
  }
  if (m.type === 'poll' && Array.isArray(m.options) && !m.deleted) {
    out.poll = { options: [...m.options], votes: {}, counts: m.options.map(() => 0), closed: false };
  }
  return out;
}

/** tally counts a poll's votes per option. */
export function tally(votes: Record<string, number>, n: number): number[] {
  const counts = new Array<number>(n).fill(0);
  for (const v of Object.values(votes)) if (v >= 0 && v < n) counts[v]++;
  return counts;
}

/**
 * applyEvent returns the entry as ev leaves it (the same object when ev
 * changes nothing). An edit counts only from the entry's author; a member
 * has one reaction of each emoji; a member's later vote replaces the
 * earlier one, and votes after the poll closed do not count.
 */
export function applyEvent(e: MessageEntry, ev: Message): MessageEntry {
  switch (ev.type) {
    case 'edited':
      if (e.deleted || ev.deleted || ev.from?.id !== e.from.id || typeof ev.text !== 'string') return e;
      return { ...e, text: ev.text, edited: true };
    case 'reaction': {
      if (!ev.emoji || !ev.from) return e;
      const reactions = react(e.reactions ?? [], ev.emoji, ev.from, !!ev.remove);
      return reactions === e.reactions ? e : { ...e, reactions: reactions.length ? reactions : undefined };
    }
    case 'vote': {
      const p = e.poll;
      if (!p || p.closed || typeof ev.option !== 'number' || ev.option < 0 || ev.option >= p.options.length || !ev.from) return e;
      const votes = { ...p.votes, [ev.from.id]: ev.option };
      return { ...e, poll: { ...p, votes, counts: tally(votes, p.options.length) } };
    }
    case 'poll_closed': {
      const p = e.poll;
      if (!p || p.closed) return e;
      const poll: PollState = { ...p, closed: true };
      // The result the host counted when it closed (a vote we never saw counts there).
      if (Array.isArray(ev.counts) && ev.counts.length === p.options.length) poll.counts = [...ev.counts];
      return { ...e, poll };
    }
  }
  return e;
}

function react(list: Reaction[], emoji: string, who: Member, remove: boolean): Reaction[] {
  const i = list.findIndex((r) => r.emoji === emoji);
  const has = i >= 0 && list[i].members.some((m) => m.id === who.id);
  if (remove) {
    if (!has) return list;
    const members = list[i].members.filter((m) => m.id !== who.id);
    return members.length ? list.map((r, j) => (j === i ? { ...r, members } : r)) : list.filter((_, j) => j !== i);
  }
  if (has) return list;
  const member = { id: who.id, name: who.name };
  if (i < 0) return [...list, { emoji, members: [member] }];
  return list.map((r, j) => (j === i ? { ...r, members: [...r.members, member] } : r));
}

/** reacted: whether the member (by any of ids) has reacted with emoji. */
export function reacted(r: Reaction, mine: (id: string) => boolean): boolean {
  return r.members.some((m) => mine(m.id));
}

/** myVote is the option we chose in a poll, if any. */
export function myVote(p: PollState, mine: (id: string) => boolean): number | undefined {
  let out: number | undefined;
  for (const [id, v] of Object.entries(p.votes)) if (mine(id)) out = v;
  return out;
}

/**
 * isOneEmoji says whether s can be a reaction, as the host checks it: no
 * letters, digits or spaces, at most 64 bytes, and a symbol in it.
 */
export function isOneEmoji(s: string): boolean {
  if (!s || new TextEncoder().encode(s).length > 64) return false;
  if (/[\p{L}\p{N}\s\p{Cc}]/u.test(s)) return false;
  return /[\p{So}\p{Sk}\p{Sm}]/u.test(s);
}

/** firstLine is what a reply quotes of its original: its first non-blank line, shortened. */
export function firstLine(text: string, max = 80): string {
  const line = text.split('\n').find((l) => l.trim()) ?? '';
  const t = line.trim();
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

/**
 * canEdit: the entry is ours, sent, not deleted, not a poll, and its time to
 * be edited (limits.edit_seconds from its sending) is not over at now.
 */
export function canEdit(e: MessageEntry, editSeconds: number | undefined, now: number): boolean {
  if (!e.own || e.state !== 'sent' || e.deleted || e.poll || e.seq === undefined) return false;
  if (!editSeconds || editSeconds <= 0) return false;
  return now - e.ts <= editSeconds * 1000;
}

/**
 * lastEditable is the message ArrowUp in an empty composer edits: our most
 * recent message in entries (a deleted one or a poll passed over), when
 * canEdit says it may still be edited; undefined otherwise (one still
 * sending, say, does not give the turn to an older one).
 */
export function lastEditable(entries: readonly Entry[], editSeconds: number | undefined, now: number): MessageEntry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i];
    if (e.kind === 'message' && e.own && !e.deleted && !e.poll) return canEdit(e, editSeconds, now) ? e : undefined;
  }
  return undefined;
}

// ---- mentions ---------------------------------------------------------------

/** The words that mention everyone in a room, when a host writes them. */
export const EVERYONE = ['todos', 'everyone'] as const;

/**
 * mentionsEveryone: a host's (or co-host's) message with @todos or @everyone
 * notifies everyone in the room; anyone else's does not.
 */
export function mentionsEveryone(text: string, from: Member | undefined): boolean {
  if (!from || (from.role !== 'host' && from.role !== 'cohost')) return false;
  return /(^|[^\p{L}\p{N}_@])@(todos|everyone)(?![\p{L}\p{N}_])/iu.test(text);
}

/**
 * mentionAt finds the mention being typed at the caret: an "@" at the start
 * or after a space, and the word after it up to the caret. It returns where
 * the "@" is and what follows it, or undefined.
 */
export function mentionAt(text: string, caret: number): { start: number; query: string } | undefined {
  const before = text.slice(0, caret);
  const m = /(^|\s)@([^\s@]{0,32})$/u.exec(before);
  if (!m) return undefined;
  return { start: caret - m[2].length - 1, query: m[2] };
}

/** fold is how names are compared for a mention: lower case, without accents. */
function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * mentionChoices are the members (and, for a host, @todos/@everyone) that
 * a mention being typed may mean: names that start with the query, then
 * names with a word that does, at most limit, never ourselves.
 */
export function mentionChoices(members: readonly Member[], query: string, meId: string | undefined, host: boolean, limit = 6): string[] {
  const q = fold(query);
  const starts: string[] = [];
  const inside: string[] = [];
  for (const m of members) {
    if (m.id === meId) continue;
    const n = fold(m.name);
    if (n.startsWith(q)) starts.push(m.name);
    else if (n.split(/\s+/).some((w) => w.startsWith(q))) inside.push(m.name);
  }
  const byName = (a: string, b: string) => a.localeCompare(b);
  const out = [...starts.sort(byName), ...inside.sort(byName)];
  if (host) for (const w of EVERYONE) if (w.startsWith(q)) out.push(w);
  return [...new Set(out)].slice(0, limit);
}

/** completeMention puts "@name " in place of the mention being typed (from start to the caret). */
export function completeMention(text: string, start: number, caret: number, name: string): { text: string; caret: number } {
  const ins = '@' + name + ' ';
  return { text: text.slice(0, start) + ins + text.slice(caret), caret: start + ins.length };
}
