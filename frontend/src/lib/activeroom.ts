// The room the user is looking at, and whether they see it at all: a message
// that comes while its room is not the active one, or while the host is off
// screen, counts as unread. Making a room active clears its unread count and
// remembers how many there were, for the "new messages" line.

import { LOBBY, isPrivate, roomKey } from './protocol';
import type { Room, Rooms } from './rooms';

export class ActiveRoom {
  /** the active room's key */
  key = LOBBY;
  /** the room that was active before: where the user goes back to when the one they opened never existed */
  private previous = LOBBY;
  /** the room last made active, and how many of its messages were unread then */
  private opened: { key: string; unread: number } = { key: LOBBY, unread: 0 };
  /** this host is on screen */
  private visible = true;
  /** a private conversation was asked for: the next private room joined becomes the active one */
  private dmPending = false;

  constructor(
    private readonly rooms: Rooms,
    private readonly changed: () => void,
  ) {}

  /** set marks the room the user is looking at: its unread count clears. */
  set(roomName: string): void {
    const key = roomKey(roomName);
    if (key !== this.key) this.previous = this.key;
    this.key = key;
    const r = this.rooms.get(key);
    this.opened = { key, unread: r?.unread ?? 0 };
    if (r && (r.unread || r.mentions)) {
      r.unread = 0;
      r.mentions = 0;
      this.rooms.touch(r);
    } else this.changed();
  }

  /** setVisible says whether this host is on screen; back on screen, the active room is read. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) this.set(this.key);
  }

  /** unreadWhenOpened: how many messages of a room were unread when it was last made active (0 for any other room). */
  unreadWhenOpened(roomName: string): number {
    return this.opened.key === roomKey(roomName) ? this.opened.unread : 0;
  }

  /** sees: a message that comes into the room now is seen at once (the room is the active one, on screen); otherwise it is unread. */
  sees(r: Room): boolean {
    return r.key === this.key && this.visible;
  }

  /** dmAsked: a private conversation was asked for; it becomes the active room when it arrives (joined). */
  dmAsked(): void {
    this.dmPending = true;
  }

  /** joined: a private room joined while one is asked for becomes the active room, with nothing unread. */
  joined(r: Room): void {
    if (!this.dmPending || !isPrivate(r.name)) return;
    this.dmPending = false;
    this.key = r.key;
    r.unread = r.mentions = 0;
  }

  /** renamed: the active room keeps up with its new name. */
  renamed(oldKey: string, newName: string): void {
    if (this.key === oldKey) this.key = roomKey(newName);
  }

  /** closed: the host closed a room; when it was the active one, the lobby is. */
  closed(r: Room): void {
    if (this.key === r.key) this.key = LOBBY;
  }

  /** neverWas: the room turned out never to exist; when it was the active one, the user goes back to where they were (the lobby if that is gone too). */
  neverWas(r: Room): void {
    if (this.key !== r.key) return;
    const prev = this.rooms.get(this.previous);
    this.key = prev && prev.state !== 'gone' ? prev.key : LOBBY;
  }
}
