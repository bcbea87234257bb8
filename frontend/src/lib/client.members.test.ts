// Large rooms (docs/protocol.md, "Large rooms"): joined and presence carry the
// room's count and, when partial, only its hosts, co-hosts and the joiner; a
// members query searches the rest; a complete members frame makes the room
// small again.

import { describe, expect, it } from 'vitest';
import { bob, welcome } from './testing/fakes';
import { online, room, setup } from './testing/harness';

const me = { id: 'm-me', name: 'Alice' };
const host = { id: 'm-host', name: 'Prof. Lima', role: 'host' };
const ana = { id: 'm-ana', name: 'Ana Souza' };
const mariana = { id: 'm-mariana', name: 'Mariana' };

/** largeLobby: online, with a lobby of 2,412 members of which joined names the host and us. */
function largeLobby() {
  const { client, sockets, clock } = setup();
  client.connect();
  const s = sockets.last;
  s.open();
  s.push(welcome(), { type: 'joined', room: 'lobby', members: [host, me], history: [], last_seq: 0, count: 2412, partial: true });
  return { client, s, clock, sockets };
}

function answer(query: string, members: object[], count = 2412) {
  return { type: 'members', room: 'lobby', query, members, count, partial: true };
}

describe('a large room', () => {
  it('joined with partial makes the room large and takes its count', () => {
    const { client } = largeLobby();
    const lobby = room(client, 'lobby');
    expect(lobby.large).toBe(true);
    expect(lobby.count).toBe(2412);
    expect(lobby.members.map((m) => m.id)).toEqual(['m-host', 'm-me']);
  });

  it('joined without partial is a small room counted by the host', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    s.push({ type: 'joined', room: 'general', members: [bob, me], history: [], last_seq: 0, count: 2 });
    expect(room(client, 'general')).toMatchObject({ large: false, count: 2 });
  });

  it('a partial presence takes the count and keeps the partial list; with no changes it shows no line', () => {
    const { client, s } = largeLobby();
    s.push({ type: 'presence', room: 'lobby', changes: [], ts: 5, count: 2413, partial: true });
    let lobby = room(client, 'lobby');
    expect(lobby.count).toBe(2413);
    expect(lobby.large).toBe(true);
    expect(lobby.members.map((m) => m.id)).toEqual(['m-host', 'm-me']);
    // the host sends a nil change list as null
    s.push({ type: 'presence', room: 'lobby', changes: null, ts: 6, count: 2400, partial: true });
    lobby = room(client, 'lobby');
    expect(lobby.count).toBe(2400);
    expect(lobby.members.map((m) => m.id)).toEqual(['m-host', 'm-me']);
    expect(lobby.entries.filter((e) => e.kind === 'notice')).toEqual([]);
  });

  it("a partial presence applies hosts' and co-hosts' changes, with a notice", () => {
    const { client, s } = largeLobby();
    const cohost = { id: 'm-co', name: 'Bia', role: 'cohost' };
    s.push({ type: 'presence', room: 'lobby', changes: [{ event: 'joined', member: cohost }], ts: 5, count: 2413, partial: true });
    const lobby = room(client, 'lobby');
    expect(lobby.members.map((m) => m.id)).toEqual(['m-host', 'm-me', 'm-co']);
    expect(lobby.count).toBe(2413);
    expect(lobby.entries.filter((e) => e.kind === 'notice')).toMatchObject([{ event: 'joined', member: cohost }]);
  });

  it('a room that grows large keeps only its hosts, co-hosts and us: the guests will not be told to leave', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    s.push({ type: 'joined', room: 'general', members: [host, bob, me, ana], history: [], last_seq: 0, count: 4 });
    expect(room(client, 'general').members).toHaveLength(4);
    s.push({ type: 'presence', room: 'general', changes: [], ts: 5, count: 5, partial: true });
    const general = room(client, 'general');
    expect(general.large).toBe(true);
    expect(general.count).toBe(5);
    expect(general.members.map((m) => m.id)).toEqual(['m-host', 'm-me']);
  });

  it('a complete members frame replaces the list and makes the room small again', () => {
    const { client, s } = largeLobby();
    client.searchMembers('lobby', 'ana');
    s.push({ type: 'members', room: 'lobby', members: [host, me, ana, bob], count: 4 });
    const lobby = room(client, 'lobby');
    expect(lobby.large).toBe(false);
    expect(lobby.count).toBe(4);
    expect(lobby.members.map((m) => m.id)).toEqual(['m-host', 'm-me', 'm-ana', 'm-bob']);
    expect(lobby.search).toBeUndefined();
    // from now on presence carries every member's change again
    s.push({ type: 'presence', room: 'lobby', changes: [{ event: 'left', member: bob }], ts: 7, count: 3 });
    expect(room(client, 'lobby').members.map((m) => m.id)).toEqual(['m-host', 'm-me', 'm-ana']);
    expect(room(client, 'lobby').count).toBe(3);
  });
});

describe('searching the members of a room', () => {
  it('searchMembers sends a members frame with the query and the limit', () => {
    const { client, s } = largeLobby();
    expect(client.searchMembers('Lobby', '  ana ', 20)).toBe(true);
    expect(client.searchMembers('lobby', 'mari')).toBe(true);
    expect(s.of('members')).toEqual([
      { type: 'members', room: 'lobby', query: 'ana', limit: 20 },
      { type: 'members', room: 'lobby', query: 'mari', limit: 50 },
    ]);
    expect(room(client, 'lobby').search).toMatchObject({ query: 'mari', pending: true, members: [] });
  });

  it('an empty query asks nothing and ends the search', () => {
    const { client, s } = largeLobby();
    client.searchMembers('lobby', 'ana');
    expect(client.searchMembers('lobby', '   ')).toBe(false);
    expect(s.of('members')).toHaveLength(1);
    expect(room(client, 'lobby').search).toBeUndefined();
    // the answer to the query that was ended comes anyway: it is dropped
    s.push(answer('ana', [ana]));
    expect(room(client, 'lobby').search).toBeUndefined();
  });

  it('keeps the answer as the search result, apart from the member list', () => {
    const { client, s } = largeLobby();
    client.searchMembers('lobby', 'ana');
    s.push(answer('ana', [ana, mariana], 2415));
    const lobby = room(client, 'lobby');
    expect(lobby.search).toEqual({ query: 'ana', limit: 50, members: [ana, mariana], count: 2415, pending: false });
    expect(lobby.count).toBe(2415);
    expect(lobby.large).toBe(true);
    expect(lobby.members.map((m) => m.id)).toEqual(['m-host', 'm-me']);
  });

  it('ignores answers to a query that is no longer the latest', () => {
    const { client, s } = largeLobby();
    client.searchMembers('lobby', 'an');
    client.searchMembers('lobby', 'ana s');
    s.push(answer('an', [ana, mariana, { id: 'm-x', name: 'Fernanda' }], 2500));
    let lobby = room(client, 'lobby');
    expect(lobby.search).toMatchObject({ query: 'ana s', pending: true, members: [] });
    expect(lobby.count).toBe(2412);
    s.push(answer('ana s', [ana]));
    lobby = room(client, 'lobby');
    expect(lobby.search).toMatchObject({ query: 'ana s', pending: false, members: [ana] });
    // an answer nobody asked for changes nothing either
    s.push(answer('zé', [bob]));
    expect(room(client, 'lobby').search).toMatchObject({ query: 'ana s', members: [ana] });
  });

  it('asks offline queries, and the one in progress at a reconnect, after the joined', () => {
    const { client, s, sockets } = largeLobby();
    client.searchMembers('lobby', 'ana');
    s.drop();
    expect(client.searchMembers('lobby', 'mariana')).toBe(false);
    client.reconnectNow();
    const s2 = sockets.last;
    s2.open();
    s2.push(welcome('sess-2'));
    expect(s2.of('members')).toEqual([]);
    s2.push({ type: 'joined', room: 'lobby', members: [host, me], history: [], last_seq: 0, count: 2412, partial: true });
    expect(s2.of('members')).toEqual([{ type: 'members', room: 'lobby', query: 'mariana', limit: 50 }]);
    s2.push(answer('mariana', [mariana]));
    expect(room(client, 'lobby').search).toMatchObject({ query: 'mariana', members: [mariana], pending: false });
  });

  it('asks again a second after the host said rate_limited', () => {
    const { client, s, clock } = largeLobby();
    client.searchMembers('lobby', 'ana');
    s.push({ type: 'error', code: 'rate_limited', message: 'slow down', ref: 'lobby' });
    clock.advance(999);
    expect(s.of('members')).toHaveLength(1);
    clock.advance(1);
    expect(s.of('members')).toEqual([
      { type: 'members', room: 'lobby', query: 'ana', limit: 50 },
      { type: 'members', room: 'lobby', query: 'ana', limit: 50 },
    ]);
  });

  it('updates a found member on a member frame (muted, role)', () => {
    const { client, s } = largeLobby();
    client.searchMembers('lobby', 'ana');
    s.push(answer('ana', [ana]));
    s.push({ type: 'member', member: { ...ana, muted: true } });
    expect(room(client, 'lobby').search?.members).toEqual([{ ...ana, muted: true }]);
  });
});
