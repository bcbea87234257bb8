// Test helpers for the client: a client wired to fake sockets and a manual
// clock, and short ways to read its rooms.

import { LanchatClient, type MessageEntry, type RoomView } from '../client';
import { joined, ManualClock, Sockets, welcome } from './fakes';

export function setup(opts: Partial<ConstructorParameters<typeof LanchatClient>[0]> = {}) {
  const sockets = new Sockets();
  const clock = new ManualClock();
  const client = new LanchatClient({
    url: 'ws://127.0.0.1:47800/ws',
    name: ' Alice ',
    device: 'd-1',
    socket: sockets.factory,
    clock,
    backoff: { baseMs: 1000, maxMs: 8000 },
    ackTimeoutMs: 5000,
    ...opts,
  });
  return { client, sockets, clock };
}

export function room(c: LanchatClient, key: string): RoomView {
  const r = c.state.rooms.find((x) => x.key === key);
  if (!r) throw new Error('no room ' + key);
  return r;
}

export function messages(c: LanchatClient, key: string): MessageEntry[] {
  return room(c, key).entries.filter((e): e is MessageEntry => e.kind === 'message');
}

export function texts(c: LanchatClient, key: string): string[] {
  return messages(c, key).map((m) => m.text);
}

/** withEpoch gives a welcome or joined frame the host's history epoch. */
export function withEpoch<T extends object>(frame: T, epoch: string): T & { epoch: string } {
  return { ...frame, epoch };
}

/** entryWrites counts assignments to a room's entries from now on (the room is the client's own, not its view). */
export function entryWrites(c: LanchatClient, key: string): { n: number } {
  const r = (c as unknown as { rooms: { get(key: string): { entries: unknown[] } | undefined } }).rooms.get(key);
  if (!r) throw new Error('no room ' + key);
  const count = { n: 0 };
  let value = r.entries;
  Object.defineProperty(r, 'entries', {
    configurable: true,
    enumerable: true,
    get: () => value,
    set: (v: unknown[]) => {
      count.n++;
      value = v;
    },
  });
  return count;
}

/** online connects and answers hello with welcome + joined lobby (+ general when asked). */
export function online(c: LanchatClient, sockets: Sockets, session = 'sess-1') {
  c.connect();
  const s = sockets.last;
  s.open();
  s.push(welcome(session), joined('lobby', [], 0));
  return s;
}
