// The room state machine: the transitions of Rooms on their own, and what
// they mean for the client.

import { describe, expect, it } from 'vitest';
import { Rooms, type RoomState } from './rooms';
import { bob, joined, ManualClock, msg } from './testing/fakes';
import { messages, online, room, setup } from './testing/harness';

function rooms() {
  let changes = 0;
  const rs = new Rooms(new ManualClock(), () => changes++);
  return { rs, changes: () => changes };
}

describe('room transitions', () => {
  it('goes idle -> joining -> joined -> resyncing -> joined, and the view follows', () => {
    const { rs } = rooms();
    const r = rs.room('general');
    const seen: [RoomState, boolean][] = [];
    const note = () => seen.push([r.state, rs.views().find((v) => v.key === 'general')!.joined]);
    note();
    rs.toJoining(r);
    note();
    rs.toJoined(r);
    note();
    expect(rs.toResyncing(r)).toBe(true);
    note();
    rs.toJoined(r);
    note();
    expect(seen).toEqual([
      ['idle', false],
      ['joining', false],
      ['joined', true],
      ['resyncing', true],
      ['joined', true],
    ]);
    expect(r.wanted).toBe(true); // joined makes it wanted
  });

  it('resyncs only a joined room', () => {
    const { rs } = rooms();
    const r = rs.room('general');
    for (const prepare of [() => {}, () => rs.toJoining(r), () => rs.toGone(r)]) {
      prepare();
      const before = r.state;
      expect(rs.toResyncing(r)).toBe(false);
      expect(r.state).toBe(before);
    }
    rs.toJoined(r);
    expect(rs.toResyncing(r)).toBe(true);
    expect(rs.toResyncing(r)).toBe(false); // already on its way
    expect(r.state).toBe('resyncing');
  });

  it('keeps a gone room gone until it is revived, and only then joins it', () => {
    const { rs } = rooms();
    const r = rs.room('sala9');
    r.wanted = true;
    rs.typing(r, bob, 4000);
    rs.toGone(r);
    expect(r).toMatchObject({ state: 'gone', wanted: false });
    expect(r.typing.size).toBe(0);
    rs.toIdle(r);
    rs.toJoining(r);
    rs.joinRefused(r);
    expect(r.state).toBe('gone');
    rs.revive(r);
    expect(r.state).toBe('idle');
    rs.revive(r); // only from gone
    rs.toJoining(r);
    expect(r.state).toBe('joining');
    expect(rs.views().find((v) => v.key === 'sala9')).toMatchObject({ gone: false, joined: false });
  });

  it('takes a refused join back to idle, but not a room we are in', () => {
    const { rs } = rooms();
    const a = rs.room('a');
    const b = rs.room('b');
    const c = rs.room('c');
    rs.toJoining(a);
    rs.toJoined(b);
    rs.toJoined(c);
    rs.toResyncing(c);
    for (const r of [a, b, c]) rs.joinRefused(r);
    expect([a.state, b.state, c.state]).toEqual(['idle', 'joined', 'resyncing']);
  });

  it('drops every room it was in or joining when the connection goes, with the typing hints', () => {
    const { rs, changes } = rooms();
    const [idle, joining, joined, resyncing, gone] = ['i', 'j', 'k', 'r', 'g'].map((n) => rs.room(n));
    rs.toJoining(joining);
    rs.toJoined(joined);
    rs.toJoined(resyncing);
    rs.toResyncing(resyncing);
    rs.toGone(gone);
    rs.typing(joined, bob, 4000);
    rs.views();
    const quiet = rs.views().find((v) => v.key === 'i');
    const before = changes();
    rs.disconnected();
    expect([idle, joining, joined, resyncing, gone].map((r) => r.state)).toEqual(['idle', 'idle', 'idle', 'idle', 'gone']);
    expect(joined.typing.size).toBe(0);
    expect(changes()).toBeGreaterThan(before);
    // a room that did not change keeps its view
    expect(rs.views().find((v) => v.key === 'i')).toBe(quiet);
  });
});

describe('room states in the client', () => {
  it('holds messages while resyncing and sends them once the re-join is answered', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [msg('general', 1, 'a')], 1));
    s.push(msg('general', 3, 'c')); // a gap: resyncing
    const { clientId } = client.send('general', 'held');
    expect(s.of('send')).toEqual([]);
    expect(room(client, 'general').joined).toBe(true); // still in the room
    s.push(joined('general', [msg('general', 2, 'b'), msg('general', 3, 'c')], 3));
    expect(s.of('send').map((f) => f.client_id)).toEqual([clientId]);
  });

  it('joins again when the host says we are not in a room, and sends after', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [msg('general', 1, 'a')], 1));
    const { clientId } = client.send('general', 'lost');
    s.sent = [];
    s.push({ type: 'error', code: 'not_in_room', message: 'no', ref: clientId });
    expect(s.of('join')).toEqual([{ type: 'join', room: 'general', since: 1 }]);
    expect(room(client, 'general').joined).toBe(false);
    expect(messages(client, 'general').find((m) => m.clientId === clientId)?.state).toBe('pending');
    s.push(joined('general', [], 1));
    expect(s.of('send').map((f) => f.client_id)).toEqual([clientId]);
  });

  it('stays in a room when an error names it (creating a room that exists)', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [], 0));
    client.createRoom('general');
    s.push({ type: 'error', code: 'room_exists', message: 'exists', ref: 'general' });
    expect(room(client, 'general').joined).toBe(true);
    client.send('general', 'still here');
    expect(s.of('send')).toHaveLength(1);
  });

  it('is out of a room the host left us from, and joins it again when asked', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [msg('general', 1, 'a')], 1));
    s.push({ type: 'left', room: 'general' });
    expect(room(client, 'general')).toMatchObject({ joined: false, wanted: true, gone: false });
    client.join('general');
    expect(s.of('join')).toEqual([{ type: 'join', room: 'general' }, { type: 'join', room: 'general', since: 1 }]);
  });
});
