// The member searches of large rooms, as requests to the host: a large
// room's member list holds only the hosts, co-hosts and us, and its search
// box asks the host for the rest by name (docs/protocol.md, "members"). Each
// room keeps its latest query and the answer (Rooms.search, membersList);
// this sends the query when it can: at once, with the room's next joined, or
// again a second after the host said rate_limited.

import type { Connection } from './connection';
import { inRoom, type Room, type Rooms } from './rooms';
import type { Clock } from './types';

export interface MemberSearchesDeps {
  rooms: Rooms;
  conn: Pick<Connection, 'online' | 'transmit'>;
  clock: Clock;
}

export class MemberSearches {
  constructor(private readonly deps: MemberSearchesDeps) {}

  /** ask: see LanchatClient.searchMembers. */
  ask(roomName: string, query: string, limit: number): boolean {
    const { rooms } = this.deps;
    const r = rooms.find(roomName);
    if (!r) return false;
    const q = query.trim();
    if (!q) {
      rooms.search(r, undefined);
      return false;
    }
    const n = Math.min(Math.max(Math.floor(limit) || 50, 1), 200);
    rooms.search(r, q, n);
    return this.send(r);
  }

  /** send sends the room's pending member search, when it can go out now. */
  private send(r: Room): boolean {
    const { rooms, conn } = this.deps;
    if (!r.search || !conn.online || !inRoom(r)) return false;
    if (!r.search.pending) rooms.search(r, r.search.query, r.search.limit);
    conn.transmit({ type: 'members', room: r.name, query: r.search.query, limit: r.search.limit });
    return true;
  }

  /** joined: a search asked before the room's joined (offline, or on the previous connection) goes out now. */
  joined(r: Room): void {
    if (r.large && r.search) this.send(r);
  }

  /** rateLimited: the host refused a request about the room as one too many; when that was our member search, the same goes again in a second, unless another came since. */
  rateLimited(r: Room): void {
    if (!r.search?.pending) return;
    const asked = r.search;
    this.deps.clock.setTimeout(() => {
      if (r.search === asked) this.send(r);
    }, 1000);
  }
}
