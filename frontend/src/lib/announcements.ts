// The host's announcements (docs/protocol.md, "announcement"): the newest
// few the client keeps, and how many of them the user has not seen yet.

import type { Announcement } from './protocol';

/** How many of the host's announcements a client keeps (the host keeps as many). */
const MAX_ANNOUNCEMENTS = 3;

export class Announcements {
  /** the announcements we know of, oldest first (a new array at each change) */
  list: Announcement[] = [];
  /** how many of them the user has not dismissed */
  unseen = 0;

  /** mine says whether a member id is us (now, or on a box we failed over from). */
  constructor(private readonly mine: (memberId: string) => boolean) {}

  /**
   * take takes announcements (live, or a welcome's): those new to us (by id)
   * are kept, the newest few, and count as unseen (unless ours). It returns
   * the newest of them, to be told to the listeners (one notification for a
   * welcome's few). One seen before (a reconnect's welcome) is neither kept
   * twice nor told.
   */
  take(list: Announcement[]): Announcement | undefined {
    let newest: Announcement | undefined;
    for (const a of list) {
      if (!a || typeof a.id !== 'string' || typeof a.text !== 'string' || this.list.some((x) => x.id === a.id)) continue;
      this.list = [...this.list, a].slice(-MAX_ANNOUNCEMENTS);
      // our own is news to everyone else, not to us
      if (!this.mine(a.from?.id ?? '')) this.unseen = Math.min(this.unseen + 1, MAX_ANNOUNCEMENTS);
      newest = a;
    }
    return newest;
  }

  /** seen: the user saw (dismissed) the announcements so far; false when there was none unseen. */
  seen(): boolean {
    if (!this.unseen) return false;
    this.unseen = 0;
    return true;
  }
}
