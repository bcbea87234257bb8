// The client and its rooms: rooms that are gone, renamed or closed, a host
// whose history started over, a large resume, host controls.

import { describe, expect, it } from 'vitest';
import { bob, joined, msg, welcome } from './testing/fakes';
import { entryWrites, messages, online, room, setup, texts, withEpoch } from './testing/harness';

describe('rooms that do not exist', () => {
  it('shows the unknown-room error and marks the room gone', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    const errors: { code: string; ref?: string }[] = [];
    client.on((e) => e.type === 'error' && errors.push({ code: e.code, ref: e.ref }));
    client.join('sala9');
    client.setActive('sala9');
    expect(s.of('join')).toEqual([{ type: 'join', room: 'sala9' }]);
    s.push({ type: 'error', code: 'no_such_room', message: 'no', ref: 'sala9' });
    expect(errors).toEqual([{ code: 'no_such_room', ref: 'sala9' }]);
    expect(room(client, 'sala9')).toMatchObject({ gone: true, wanted: false, joined: false });
    expect(client.state.active).toBe('lobby');
  });

  it('marks a resumed room gone when the host lists it in welcome.gone_rooms', () => {
    const { client, sockets } = setup({ rooms: ['random'] });
    const s = online(client, sockets);
    s.push(joined('random', [msg('random', 1, 'r')], 1));
    s.drop();
    client.reconnectNow();
    sockets.last.open();
    // The host lists the rooms it no longer has once, in welcome.gone_rooms.
    sockets.last.push({ ...welcome('sess-2'), gone_rooms: ['random'] }, joined('lobby', [], 0));
    expect(room(client, 'random')).toMatchObject({ gone: true, wanted: false });
    expect(room(client, 'random').entries.at(-1)).toMatchObject({ kind: 'notice', event: 'gone' });
    sockets.last.drop();
    client.reconnectNow();
    sockets.last.open();
    expect(sockets.last.sent[0].resume.rooms).toEqual({ lobby: 0 });
  });
});

describe('a host that restarted without its history', () => {
  it('without epochs, notices fewer messages than it saw, keeps what it shows, and fetches the new ones', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [msg('general', 1, 'a'), msg('general', 2, 'b'), msg('general', 3, 'c')], 3));
    s.drop();
    const { clientId } = client.send('general', 'during restart');
    client.reconnectNow();
    const s2 = sockets.last;
    s2.open();
    // a new host process: the session is unknown and the room holds one newer message
    s2.push(welcome('sess-new'), joined('lobby', [], 0), joined('general', [], 1));
    expect(s2.of('join')).toEqual([{ type: 'join', room: 'general', since: 0 }]);
    expect(s2.of('send')).toEqual([]);
    s2.push(joined('general', [msg('general', 1, 'new from bob', bob, 'cb', 'n1')], 1));
    expect(s2.of('send').map((f) => f.client_id)).toEqual([clientId]);
    s2.push({ type: 'ack', client_id: clientId, room: 'general', seq: 2, id: 'n2', ts: 1 }, msg('general', 2, 'during restart', { id: 'm-me2', name: 'Alice' }, clientId, 'n2'));
    // what was typed during the outage stays where it was typed
    expect(texts(client, 'general')).toEqual(['a', 'b', 'c', 'during restart', 'new from bob']);
    expect(messages(client, 'general').every((m) => m.state === 'sent')).toBe(true);
    expect(room(client, 'general').entries.some((e) => e.kind === 'notice' && e.event === 'reset')).toBe(true);
    s2.push(msg('general', 2, 'during restart', { id: 'm-me2', name: 'Alice' }, clientId, 'n2'), msg('general', 3, 'after', bob, undefined, 'n3'));
    expect(texts(client, 'general')).toEqual(['a', 'b', 'c', 'during restart', 'new from bob', 'after']);
  });

  it('starts over when the history epoch changed, even when the seqs look fine', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    client.connect();
    const s = sockets.last;
    s.open();
    s.push(withEpoch(welcome(), 'e1'), withEpoch(joined('lobby', [], 0), 'e1'));
    s.push(withEpoch(joined('general', [msg('general', 1, 'a'), msg('general', 2, 'b')], 2), 'e1'));
    s.drop();
    client.reconnectNow();
    const s2 = sockets.last;
    s2.open();
    // the restarted host already has 3 new messages: seq alone cannot tell, the epoch can
    s2.push(withEpoch(welcome('sess-new'), 'e2'), withEpoch(joined('lobby', [], 0), 'e2'));
    s2.push(withEpoch(joined('general', [msg('general', 3, 'new3', bob, undefined, 'n3')], 3), 'e2'));
    // The lobby, where we had seen nothing, is complete already: no re-join.
    expect(s2.of('join')).toEqual([
      { type: 'join', room: 'general', since: 0 },
    ]);
    expect(texts(client, 'general')).toEqual(['a', 'b']); // nothing taken from the stale answer
    s2.push(withEpoch(joined('general', [msg('general', 1, 'new1', bob, undefined, 'n1'), msg('general', 2, 'new2', bob, undefined, 'n2'), msg('general', 3, 'new3', bob, undefined, 'n3')], 3), 'e2'));
    expect(s2.of('join')).toHaveLength(1); // the new epoch is remembered: no loop
    expect(texts(client, 'general')).toEqual(['a', 'b', 'new1', 'new2', 'new3']);
    expect(room(client, 'general').entries.filter((e) => e.kind === 'notice' && e.event === 'reset')).toHaveLength(1);
    expect(room(client, 'general').lastSeq).toBe(3);
    s2.push(msg('general', 4, 'new4', bob, undefined, 'n4'));
    expect(texts(client, 'general')).toEqual(['a', 'b', 'new1', 'new2', 'new3', 'new4']);
  });

  it('trusts a host with the same history epoch, even when it did not know the session: no verify join', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    client.connect();
    const s = sockets.last;
    s.open();
    s.push(withEpoch(welcome(), 'e1'), withEpoch(joined('lobby', [], 0), 'e1'));
    s.push(withEpoch(joined('general', [msg('general', 1, 'a'), msg('general', 2, 'b')], 2), 'e1'));
    s.drop();
    client.reconnectNow();
    const s2 = sockets.last;
    s2.open();
    expect(s2.sent[0].resume).toEqual({ session: 'sess-1', rooms: { lobby: 0, general: 2 } });
    s2.push(withEpoch(welcome('sess-new'), 'e1'), withEpoch(joined('lobby', [], 0), 'e1'), withEpoch(joined('general', [msg('general', 3, 'c')], 3), 'e1'));
    expect(s2.of('join')).toEqual([]);
    expect(texts(client, 'general')).toEqual(['a', 'b', 'c']);
    expect(room(client, 'general').entries.some((e) => e.kind === 'notice')).toBe(false);
    s2.push(msg('general', 4, 'd'));
    expect(texts(client, 'general')).toEqual(['a', 'b', 'c', 'd']);
    expect(s2.of('join')).toEqual([]);
  });

  it('sends no verify join to a host without epochs that did not know the session', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [msg('general', 1, 'a'), msg('general', 2, 'b')], 2));
    s.drop();
    client.reconnectNow();
    const s2 = sockets.last;
    s2.open();
    s2.push(welcome('sess-new'), joined('lobby', [], 0), joined('general', [], 2));
    expect(s2.of('join')).toEqual([]);
    expect(texts(client, 'general')).toEqual(['a', 'b']);
  });

  it('compares epochs only within one host: another host at the address starts afresh without a reset notice', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    client.connect();
    const s = sockets.last;
    s.open();
    s.push(withEpoch(welcome(), 'e1'), withEpoch(joined('lobby', [], 0), 'e1'));
    s.push(withEpoch(joined('general', [msg('general', 1, 'a')], 1), 'e1'));
    s.drop();
    client.reconnectNow();
    const s2 = sockets.last;
    s2.open();
    s2.push(withEpoch(welcome('sess-x', undefined, 'h2'), 'f1'), withEpoch(joined('lobby', [], 0), 'f1'));
    s2.push(withEpoch(joined('general', [msg('general', 1, 'other', bob, undefined, 'o1')], 1), 'f1'));
    expect(s2.of('join')).toEqual([]);
    expect(texts(client, 'general')).toEqual(['a', 'other']);
    expect(room(client, 'general').entries.some((e) => e.kind === 'notice')).toBe(false);
  });
});

describe('a large resume', () => {
  it('merges a joined history batch in one pass: in order, without duplicates, with one assignment', () => {
    const me = { id: 'm-me', name: 'Alice' };
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [msg('general', 1, 'a'), msg('general', 2, 'b'), msg('general', 3, 'c')], 3));
    const mine = client.send('general', 'mine').clientId!; // the host stores it; the ack is lost with the connection
    s.drop();
    const later = client.send('general', 'later').clientId!; // typed while offline: still unsent
    client.reconnectNow();
    const s2 = sockets.last;
    s2.open();
    s2.push(welcome('sess-1'), joined('lobby', [], 0));
    // 5,000 new messages (4..5003) after two the client has (2, 3), one of them
    // ours, and one repeated inside the batch
    const hist: object[] = [];
    const want: string[] = ['a', 'b', 'c'];
    for (let seq = 2; seq <= 5003; seq++) {
      if (seq === 2000) {
        hist.push(msg('general', seq, 'mine', me, mine, 'x-mine'));
      } else {
        hist.push(msg('general', seq, 't' + seq));
      }
      if (seq === 100) hist.push(msg('general', seq, 't' + seq));
      if (seq >= 4) want.push(seq === 2000 ? 'mine' : 't' + seq);
    }
    want.push('later');
    const writes = entryWrites(client, 'general');
    s2.push(joined('general', hist, 5003));
    expect(writes.n).toBe(1);
    const ms = messages(client, 'general');
    expect(ms.map((m) => m.text)).toEqual(want);
    expect(new Set(ms.map((m) => m.key)).size).toBe(ms.length);
    expect(ms.slice(0, -1).map((m) => m.seq)).toEqual(Array.from({ length: 5003 }, (_, i) => i + 1));
    // our own message took its place by seq, under its pending entry's key
    expect(ms.filter((m) => m.clientId === mine)).toEqual([
      expect.objectContaining({ key: 'c:' + mine, seq: 2000, id: 'x-mine', own: true, state: 'sent' }),
    ]);
    expect(ms.at(-1)).toMatchObject({ key: 'c:' + later, own: true, state: 'pending' });
    expect(ms.at(-1)?.seq).toBeUndefined();
    expect(room(client, 'general').lastSeq).toBe(5003);
    // only the unsent one goes out; the stored one was confirmed by the history
    expect(s2.of('send').map((f) => f.client_id)).toEqual([later]);
  });
});

describe('host controls and private rooms', () => {
  it('turns a deleted message into a tombstone, live and in history', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [msg('general', 1, 'a'), { ...msg('general', 2, ''), deleted: true }], 2));
    s.push({ type: 'deleted', room: 'general', seq: 1, id: 'general-1', by: bob });
    expect(messages(client, 'general').map((m) => [m.text, !!m.deleted])).toEqual([
      ['', true],
      ['', true],
    ]);
  });

  it('moves a renamed room, with what was waiting to be sent', () => {
    const { client, sockets } = setup({ rooms: ['projects'] });
    const s = online(client, sockets);
    s.push(joined('projects', [msg('projects', 1, 'p')], 1));
    client.setActive('projects');
    s.drop();
    client.send('projects', 'queued');
    client.reconnectNow();
    const s2 = sockets.last;
    s2.open();
    s2.push(welcome('sess-1'), joined('lobby', [], 0), { type: 'renamed', room: 'projects', name: 'Robotics' }, joined('Robotics', [], 1));
    expect(client.state.active).toBe('robotics');
    expect(room(client, 'robotics').name).toBe('Robotics');
    expect(texts(client, 'robotics')).toEqual(['p', 'queued']);
    expect(s2.of('send')).toEqual([expect.objectContaining({ room: 'Robotics', text: 'queued' })]);
    expect(client.state.rooms.some((r) => r.key === 'projects')).toBe(false);
  });

  it('leaves a closed room and does not rejoin it', () => {
    const { client, sockets } = setup({ rooms: ['random'] });
    const s = online(client, sockets);
    s.push(joined('random', [], 0));
    client.setActive('random');
    s.push({ type: 'closed', room: 'random' });
    expect(room(client, 'random')).toMatchObject({ joined: false, wanted: false, gone: true });
    expect(client.state.active).toBe('lobby');
    s.drop();
    client.reconnectNow();
    sockets.last.open();
    expect(Object.keys(sockets.last.sent[0].resume.rooms)).toEqual(['lobby']);
  });

  it('updates members on a member frame, including itself', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [], 0, [{ id: 'm-me', name: 'Alice' }, bob]));
    s.push({ type: 'member', member: { ...bob, muted: true } }, { type: 'member', member: { id: 'm-me', name: 'Alice', role: 'cohost' } });
    expect(room(client, 'general').members.find((m) => m.id === bob.id)?.muted).toBe(true);
    expect(client.state.me?.role).toBe('cohost');
  });

  it('takes a member frame without muted or role as unmuted, guest', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [], 0, [{ id: 'm-me', name: 'Alice' }, bob]));
    s.push({ type: 'member', member: { id: 'm-me', name: 'Alice', role: 'cohost', muted: true } }, { type: 'member', member: { ...bob, muted: true } });
    expect(client.state.me).toMatchObject({ role: 'cohost', muted: true });
    s.push({ type: 'member', member: { id: 'm-me', name: 'Alice' } }, { type: 'member', member: bob });
    expect(client.state.me?.muted).toBeFalsy();
    expect(client.state.me?.role).toBeUndefined();
    expect(room(client, 'general').members.find((m) => m.id === bob.id)?.muted).toBeFalsy();
  });

  it('keeps the slow mode of each room from the rooms list', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    s.push({ type: 'rooms', rooms: [{ name: 'lobby', members: 1 }, { name: 'general', members: 1, slow_seconds: 30 }] });
    expect(room(client, 'general').slowSeconds).toBe(30);
    expect(room(client, 'lobby').slowSeconds).toBe(0);
    s.push({ type: 'rooms', rooms: [{ name: 'lobby', members: 1 }, { name: 'general', members: 1 }] });
    expect(room(client, 'general').slowSeconds).toBe(0);
  });

  it('says in a room when the host locks it, unlocks it, or changes its slow mode, and only in rooms it is in', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    s.push(joined('general', [], 0));
    const notes = (name: string) =>
      room(client, name)
        .entries.filter((e) => e.kind === 'notice')
        .map((e) => (e.kind === 'notice' ? [e.event, e.detail] : []));
    // the first list after welcome (online pushed one) is how things are, not a change
    expect(notes('general')).toEqual([]);
    s.push({ type: 'rooms', rooms: [{ name: 'lobby', members: 1 }, { name: 'general', members: 2, locked: true }, { name: 'random', members: 0, locked: true }] });
    s.push({ type: 'rooms', rooms: [{ name: 'lobby', members: 1 }, { name: 'general', members: 2, locked: true, slow_seconds: 30 }, { name: 'random', members: 0 }] });
    s.push({ type: 'rooms', rooms: [{ name: 'lobby', members: 1 }, { name: 'general', members: 2 }, { name: 'random', members: 0 }] });
    expect(notes('general')).toEqual([
      ['locked', undefined],
      ['slow', '30'],
      ['unlocked', undefined],
      ['slowOff', '0'],
    ]);
    expect(notes('random')).toEqual([]); // not in it
    // a count that changes says nothing
    s.push({ type: 'rooms', rooms: [{ name: 'lobby', members: 1 }, { name: 'general', members: 5 }, { name: 'random', members: 0 }] });
    expect(notes('general')).toHaveLength(4);
  });

  it('does not announce those who were here and come back with us after a drop (a host restart), for a minute', () => {
    const { client, sockets, clock } = setup({ rooms: ['general'] });
    const carla = { id: 'm-carla', name: 'Carla' };
    const dani = { id: 'm-dani', name: 'Dani' };
    const s1 = online(client, sockets);
    s1.push(joined('general', [], 0, [bob, carla]));
    const joins = () =>
      room(client, 'general')
        .entries.filter((e) => e.kind === 'notice' && e.event === 'joined')
        .flatMap((e) => (e.kind === 'notice' ? (e.members ?? [e.member]).map((m) => m?.name) : []));
    s1.drop();
    clock.advance(1000);
    const s2 = sockets.last;
    s2.open();
    // the host restarted: new member ids, and the others come back one after another
    s2.push(welcome('sess-2'), joined('lobby', [], 0), joined('general', [], 0, [{ ...bob, id: 'm-bob-2' }]));
    s2.push({ type: 'presence', room: 'general', changes: [{ event: 'joined', member: { ...carla, id: 'm-carla-2' } }] });
    s2.push({ type: 'presence', room: 'general', changes: [{ event: 'joined', member: dani }] });
    expect(joins()).toEqual(['Dani']); // Carla was here before; Dani is new
    expect(room(client, 'general').members.map((m) => m.name).sort()).toEqual(['Bob', 'Carla', 'Dani']);
    // a minute on, coming and going is news again
    clock.advance(61_000);
    s2.push({ type: 'presence', room: 'general', changes: [{ event: 'left', member: { ...carla, id: 'm-carla-2' } }] });
    s2.push({ type: 'presence', room: 'general', changes: [{ event: 'joined', member: { ...carla, id: 'm-carla-3' } }] });
    expect(joins()).toEqual(['Dani', 'Carla']);
  });

  it('opens a private conversation and makes it the active room', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    client.dm(bob.id);
    expect(s.of('dm')).toEqual([{ type: 'dm', member: bob.id }]);
    s.push(joined('@Alice+Bob', [], 0, [{ id: 'm-me', name: 'Alice' }, bob]));
    expect(client.state.active).toBe('@alice+bob');
    expect(room(client, '@alice+bob').private).toBe(true);
    expect(room(client, '@alice+bob').with).toBe('Bob');
    expect(room(client, 'lobby').with).toBeUndefined();
    // Bob leaves: the conversation still shows whom it is with
    s.push({ type: 'presence', room: '@Alice+Bob', changes: [{ event: 'disconnected', member: bob }] });
    expect(room(client, '@alice+bob').members.map((m) => m.name)).toEqual(['Alice']);
    expect(room(client, '@alice+bob').with).toBe('Bob');
  });

  it('sends controls and stops reconnecting when kicked or banned', () => {
    const { client, sockets, clock } = setup();
    const s = online(client, sockets);
    client.control('mute', { member: bob.id, flag: true });
    expect(s.of('control')).toEqual([{ type: 'control', action: 'mute', member: bob.id, flag: true }]);
    s.push({ type: 'error', code: 'kicked', message: 'out' });
    s.drop(4001);
    expect(client.state.status).toEqual({ kind: 'refused', code: 'kicked' });
    clock.advance(60_000);
    expect(sockets.all).toHaveLength(1);
  });
});
