// The host's announcements (docs/protocol.md, "announcement"): the newest
// few the client keeps, and how many of them the user has not seen yet.
// Which ones the user saw can be remembered on the device (the hosts' store
// keeps it in localStorage, under a key per host), so a reload, whose
// welcome brings them all again, raises neither the badge nor a toast for
// them; one that is new after the reload still does.

import type { Announcement } from './protocol';

/** How many of the host's announcements a client keeps (the host keeps as many). */
const MAX_ANNOUNCEMENTS = 3;

/** Where the announcements seen are remembered: a storage (none: for this page only) and the key of this host. */
export interface SeenPlace {
  storage: Pick<Storage, 'getItem' | 'setItem'> | undefined;
  key: string;
}

export class Announcements {
  /** the announcements we know of, oldest first (a new array at each change) */
  list: Announcement[] = [];
  /** those of them the user has not seen (dismissed, or sent), oldest first */
  fresh: Announcement[] = [];
  /** how many of them the user has not seen */
  unseen = 0;
  /** the ids of those the user saw, or sent: they do not count as unseen (remembered, read at the start) */
  private readonly seenIds: Set<string>;

  /** mine says whether a member id is us (now, or on a box we failed over from). */
  constructor(
    private readonly mine: (memberId: string) => boolean,
    private readonly place?: SeenPlace,
  ) {
    this.seenIds = new Set(readSeen(place));
  }

  /**
   * take takes announcements (live, or a welcome's): those new to us (by id)
   * are kept, the newest few, and count as unseen unless ours or seen before
   * (on an earlier page, remembered). It returns the newest of those not
   * seen before, to be told to the listeners (one notification for a
   * welcome's few; ours, for the word that it went out). One we have
   * already (a reconnect's welcome) is neither kept twice nor told.
   */
  take(list: Announcement[]): Announcement | undefined {
    let newest: Announcement | undefined;
    let ours = false;
    for (const a of list) {
      if (!a || typeof a.id !== 'string' || typeof a.text !== 'string' || this.list.some((x) => x.id === a.id)) continue;
      this.list = [...this.list, a].slice(-MAX_ANNOUNCEMENTS);
      if (this.seenIds.has(a.id)) continue;
      newest = a;
      // our own is news to everyone else, not to us
      if (this.mine(a.from?.id ?? '')) {
        this.seenIds.add(a.id);
        ours = true;
      }
    }
    this.count();
    if (ours) this.remember();
    return newest;
  }

  /** seen: the user saw (dismissed) the announcements so far; false when there was none unseen. */
  seen(): boolean {
    if (!this.unseen) return false;
    for (const a of this.list) this.seenIds.add(a.id);
    this.count();
    this.remember();
    return true;
  }

  private count(): void {
    this.fresh = this.list.filter((a) => !this.seenIds.has(a.id));
    this.unseen = this.fresh.length;
  }

  /** remember keeps the ids seen among the announcements we hold (the host holds no others): older ones are dropped. */
  private remember(): void {
    const ids = this.list.map((a) => a.id).filter((id) => this.seenIds.has(id));
    try {
      this.place?.storage?.setItem(this.place.key, JSON.stringify(ids));
    } catch {
      /* storage full or blocked: remembered for this page only */
    }
  }
}

/** readSeen reads the ids of the announcements seen on an earlier page ([] when none, or unreadable). */
function readSeen(place: SeenPlace | undefined): string[] {
  try {
    const v: unknown = JSON.parse(place?.storage?.getItem(place.key) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
