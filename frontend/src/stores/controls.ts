// What the host controls allow, as the host enforces it (docs/protocol.md,
// "control"): the UI shows only the actions that can succeed, and explains
// why the composer is off. The host refuses everything else anyway.

import type { MessageEntry, RoomView, Status } from '../lib/client';
import type { Member } from '../lib/protocol';

/** isModerator: the host's own app and co-hosts use the host controls. */
export function isModerator(me?: Member): boolean {
  return me?.role === 'host' || me?.role === 'cohost';
}

/** Why a member cannot post in a room, or undefined when they can. */
export type PostBlock = 'banned' | 'kicked' | 'muted' | 'announcements' | 'locked';

/**
 * postBlock says why me cannot post in room: removed by the host (status),
 * muted, or a room where only hosts write. Hosts and co-hosts always can.
 */
export function postBlock(me: Member | undefined, room: Pick<RoomView, 'locked' | 'announcements'>, status?: Status): PostBlock | undefined {
  if (status?.kind === 'refused' && (status.code === 'banned' || status.code === 'kicked')) return status.code;
  if (!me || isModerator(me)) return undefined;
  if (me.muted) return 'muted';
  if (room.announcements) return 'announcements';
  if (room.locked) return 'locked';
  return undefined;
}

/** canDelete: moderators delete any message; everyone their own. Only stored messages (with a seq). */
export function canDelete(me: Member | undefined, m: MessageEntry): boolean {
  if (!me || m.deleted || m.seq === undefined || m.state !== 'sent') return false;
  return isModerator(me) || (m.own && m.from.id === me.id);
}

/** canPin: moderators pin a stored, not deleted message of a listed room (not a private conversation). */
export function canPin(me: Member | undefined, room: Pick<RoomView, 'private'>, m: MessageEntry): boolean {
  return isModerator(me) && !room.private && !m.deleted && m.seq !== undefined && m.state === 'sent';
}

/** What me may do to target from the member list. */
export interface MemberActions {
  mute: boolean;
  kick: boolean;
  ban: boolean;
  /** give or take the co-host role: the host only */
  cohost: boolean;
}

const NONE: MemberActions = { mute: false, kick: false, ban: false, cohost: false };

/**
 * memberActions: nobody moderates themselves or the host; a co-host
 * moderates guests only (not other co-hosts) and cannot name co-hosts.
 */
export function memberActions(me: Member | undefined, target: Member): MemberActions {
  if (!me || !isModerator(me) || target.id === me.id || target.role === 'host') return NONE;
  if (me.role === 'cohost' && target.role === 'cohost') return NONE;
  return { mute: true, kick: true, ban: true, cohost: me.role === 'host' };
}

/** The slow-mode choices offered, in seconds (0: off), plus the room's current value if it is another. */
export function slowChoices(current: number): number[] {
  const base = [0, 10, 30, 60];
  return base.includes(current) || current <= 0 ? base : [...base, current].sort((a, b) => a - b);
}

/** slowRemaining is how many whole seconds a guest still waits after posting at lastPost (ms). */
export function slowRemaining(lastPost: number | undefined, now: number, seconds: number): number {
  if (!seconds || lastPost === undefined) return 0;
  const left = lastPost + seconds * 1000 - now;
  return left > 0 ? Math.ceil(left / 1000) : 0;
}

/** canExport: the transcript export is the desktop app's, for its own host's host. */
export function canExport(kind: 'desktop' | 'browser', own: boolean, me?: Member): boolean {
  return kind === 'desktop' && own && me?.role === 'host';
}
