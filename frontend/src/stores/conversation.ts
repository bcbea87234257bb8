// What the conversation controls share between the message list and the
// composer: the message being replied to, a jump to a reply's original, and
// our last message opened for editing from the composer.
// The rules themselves are in lib/conversation.ts.

import { writable } from 'svelte/store';
import { firstLine } from '../lib/conversation';
import type { Limits, Member } from '../lib/protocol';
import type { MessageEntry } from '../lib/types';
import { isModerator } from './controls';

/** The message the next send answers, in one room (where: client url and room key). */
export interface Replying {
  where: string;
  seq: number;
  name: string;
  line: string;
  deleted: boolean;
}

export const replying = writable<Replying | undefined>(undefined);

/** where names a room of a client, for replying and jumping. */
export function whereOf(clientUrl: string, roomKey: string): string {
  return clientUrl + '|' + roomKey;
}

/** replyTo makes the next send in that room answer m (only a stored message has a seq to answer). */
export function replyTo(where: string, m: MessageEntry): boolean {
  if (m.seq === undefined || m.state !== 'sent') return false;
  replying.set({ where, seq: m.seq, name: m.from.name, line: m.poll ? m.text : firstLine(m.text), deleted: !!m.deleted });
  return true;
}

/** The original a reply shows: the entry when we have it (a tombstone too), or only its author. */
export interface Quote {
  seq: number;
  name: string;
  line: string;
  deleted: boolean;
  /** we have the original (it can be scrolled to) */
  here: boolean;
}

/** quoteOf is what a reply shows of its original, from the room's entries. */
export function quoteOf(reply: MessageEntry, entries: readonly { kind: string; seq?: number }[]): Quote | undefined {
  if (!reply.replyTo) return undefined;
  const orig = entries.find((e) => e.kind === 'message' && e.seq === reply.replyTo) as MessageEntry | undefined;
  if (!orig) return { seq: reply.replyTo, name: reply.replyFrom?.name ?? '', line: '', deleted: false, here: false };
  return { seq: reply.replyTo, name: orig.from.name, line: orig.deleted ? '' : firstLine(orig.text), deleted: !!orig.deleted, here: true };
}

/** A jump asked for: scroll to message seq of a room once it is there. */
export const jumping = writable<{ where: string; seq: number } | undefined>(undefined);

/**
 * Our message (by key) of a room being edited because ArrowUp was pressed in
 * the room's empty composer: the message list opens its editor, and clears
 * this once the editor closes; the composer then takes the focus back.
 */
export const editingLast = writable<{ where: string; key: string } | undefined>(undefined);

/** mayPostPolls: hosts and co-hosts, and everyone when the host allows it. */
export function mayPostPolls(me: Member | undefined, limits: Limits | undefined): boolean {
  if (!me || !limits?.polls) return false;
  return isModerator(me) || limits.polls === 'everyone';
}

/** mayClosePoll: its author, hosts and co-hosts, while it is open. */
export function mayClosePoll(me: Member | undefined, m: MessageEntry): boolean {
  if (!me || !m.poll || m.poll.closed || m.deleted || m.seq === undefined) return false;
  return isModerator(me) || m.own;
}
