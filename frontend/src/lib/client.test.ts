import { describe, expect, it } from 'vitest';
import { mentions } from './client';
import { parseBatch, textError, utf8Length, type Limits } from './protocol';
import { bob, joined, msg, welcome } from './testing/fakes';
import { messages, online, room, setup, texts } from './testing/harness';

describe('parseBatch', () => {
  it('splits frames on newlines and skips broken parts', () => {
    const fs = parseBatch('{"type":"a"}\n{"type":"b"}\nnot json\n[1]\n{"x":1}\n\n{"type":"c"}');
    expect(fs.map((f) => f.type)).toEqual(['a', 'b', 'c']);
  });
  it('counts UTF-8 bytes', () => {
    expect(utf8Length('abc')).toBe(3);
    expect(utf8Length('ação')).toBe(6);
    expect(utf8Length('😀')).toBe(4);
  });
});

describe('textError', () => {
  const limits = { max_text: 4 } as Limits;
  it('refuses blank text, unless files carry the message', () => {
    expect(textError('', limits)).toBe('empty_text');
    expect(textError(' \n\t', undefined)).toBe('empty_text');
    expect(textError('', limits, true)).toBeUndefined();
    expect(textError('  ', limits, true)).toBeUndefined();
  });
  it('refuses text longer than the host takes, in UTF-8 bytes, once the limit is known', () => {
    expect(textError('abcd', limits)).toBeUndefined();
    expect(textError('ação', limits)).toBe('text_too_long'); // 6 bytes > 4
    expect(textError('ação', limits, true)).toBe('text_too_long');
    expect(textError('x'.repeat(10000), undefined)).toBeUndefined();
  });
});

describe('connecting', () => {
  it('says hello with name, device and host token, and takes batched frames', () => {
    const { client, sockets } = setup({ hostToken: 'secret' });
    client.connect();
    expect(client.state.status.kind).toBe('connecting');
    const s = sockets.last;
    expect(s.url).toBe('ws://127.0.0.1:47800/ws');
    s.open();
    expect(s.sent).toEqual([{ type: 'hello', version: 1, name: 'Alice', host_token: 'secret', device: 'd-1' }]);
    // welcome, the lobby and a live message, all in one WebSocket message
    s.push(welcome(), joined('lobby', [msg('lobby', 1, 'one')], 1), msg('lobby', 2, 'two'));
    expect(client.state.status.kind).toBe('online');
    expect(client.state.me?.name).toBe('Alice');
    expect(texts(client, 'lobby')).toEqual(['one', 'two']);
    expect(client.state.rooms.map((r) => r.key)).toEqual(['lobby', 'general', 'random']);
  });

  it('takes the new name of the host when it is renamed, and only for the host it is on', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    expect(client.state.host).toEqual({ id: 'h1', name: expect.any(String) });
    s.push({ type: 'host', host: { id: 'h1', name: 'Sala da Prof. Ana' } });
    expect(client.state.host).toEqual({ id: 'h1', name: 'Sala da Prof. Ana' });
    s.push({ type: 'host', host: { id: 'another', name: 'Impostor' } });
    expect(client.state.host?.name).toBe('Sala da Prof. Ana');
  });

  it('joins the rooms it was asked for after welcome', () => {
    const { client, sockets } = setup({ rooms: ['General'] });
    const s = online(client, sockets);
    // the host's spelling of the room (from welcome.rooms) wins
    expect(s.of('join')).toEqual([{ type: 'join', room: 'general' }]);
    s.push(joined('general', [msg('general', 1, 'hi')], 1));
    expect(room(client, 'general').joined).toBe(true);
    expect(texts(client, 'general')).toEqual(['hi']);
  });

  it('notifies subscribers once per burst of changes', async () => {
    const { client, sockets } = setup();
    const seen: number[] = [];
    client.subscribe((st) => seen.push(st.rooms.length));
    online(client, sockets);
    await Promise.resolve();
    expect(seen.length).toBe(2); // the initial call and one after the burst
  });
});

describe('reconnecting', () => {
  it('backs off exponentially with jitter, up to the ceiling', () => {
    const { client, sockets, clock } = setup();
    client.connect();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      clock.rnd = i % 2 === 0 ? 0 : 0.999;
      sockets.last.drop();
      const st = client.state.status;
      expect(st.kind).toBe('waiting');
      if (st.kind !== 'waiting') return;
      delays.push(st.retryAt - clock.now());
      const before = sockets.all.length;
      clock.advance(delays[i] - 1);
      expect(sockets.all.length).toBe(before); // not yet
      clock.advance(1);
      expect(sockets.all.length).toBe(before + 1);
    }
    // ceilings 1000, 2000, 4000, 8000, 8000, 8000; half fixed, half random
    expect(delays[0]).toBe(500);
    expect(delays[1]).toBeCloseTo(1999, 0);
    expect(delays[2]).toBe(2000);
    expect(delays[3]).toBeCloseTo(7996, 0);
    expect(delays[4]).toBe(4000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(8000);
  });

  it('resets the backoff after a welcome and lets the user skip the wait', () => {
    const { client, sockets, clock } = setup();
    clock.rnd = 0;
    online(client, sockets);
    sockets.last.drop();
    client.reconnectNow();
    expect(sockets.all.length).toBe(2);
    expect(clock.pending()).toBe(0);
    sockets.last.open();
    sockets.last.push(welcome(), joined('lobby', [], 0));
    sockets.last.drop();
    const st = client.state.status;
    expect(st.kind === 'waiting' && st.retryAt - clock.now()).toBe(500);
  });

  it('resumes with the session and the last seq of every room it is in', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [msg('general', 1, 'a'), msg('general', 2, 'b')], 2), msg('lobby', 1, 'l1'), msg('general', 3, 'c'));
    s.drop();
    client.reconnectNow();
    const s2 = sockets.last;
    s2.open();
    expect(s2.sent[0]).toEqual({
      type: 'hello',
      version: 1,
      name: 'Alice',
      device: 'd-1',
      resume: { session: 'sess-1', rooms: { lobby: 1, general: 3 } },
    });
    // The host sends joined for the resumed rooms; no explicit join goes out.
    s2.push(welcome('sess-1'), joined('lobby', [], 1), joined('general', [msg('general', 4, 'd')], 4));
    expect(s2.of('join')).toEqual([]);
    expect(texts(client, 'general')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('does not reconnect after a refusal the user must fix', () => {
    const { client, sockets, clock } = setup();
    client.connect();
    sockets.last.open();
    sockets.last.push({ type: 'error', code: 'name_taken', message: 'taken' });
    sockets.last.drop(1008);
    expect(client.state.status).toEqual({ kind: 'refused', code: 'name_taken' });
    clock.advance(60_000);
    expect(sockets.all.length).toBe(1);
    client.setName('Alice 2');
    client.reconnectNow();
    sockets.last.open();
    expect(sockets.last.sent[0].name).toBe('Alice 2');
    expect(sockets.last.sent[0].resume).toBeUndefined();
  });

  it('keeps reconnecting after the host shuts down, and says why', () => {
    const { client, sockets } = setup();
    online(client, sockets);
    sockets.last.push({ type: 'error', code: 'shutting_down', message: 'bye' });
    sockets.last.drop(1001);
    expect(client.state.status).toMatchObject({ kind: 'waiting', reason: 'shutting_down' });
  });

  it('stops for good on close', () => {
    const { client, sockets, clock } = setup();
    const s = online(client, sockets);
    client.close();
    expect(s.closed?.code).toBe(1000);
    expect(client.state.status.kind).toBe('closed');
    clock.advance(60_000);
    expect(sockets.all.length).toBe(1);
  });
});

describe('receiving', () => {
  it('drops duplicates by (room, seq) and by message id', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [msg('general', 1, 'a'), msg('general', 2, 'b')], 2));
    s.push(msg('general', 2, 'b'), msg('general', 1, 'a'), msg('general', 3, 'c'), msg('general', 3, 'c'));
    expect(texts(client, 'general')).toEqual(['a', 'b', 'c']);
    // a re-join (resynchronising) repeats what we have
    client.join('general');
    s.push(joined('general', [msg('general', 2, 'b'), msg('general', 3, 'c'), msg('general', 4, 'd')], 4));
    expect(texts(client, 'general')).toEqual(['a', 'b', 'c', 'd']);
    expect(room(client, 'general').lastSeq).toBe(4);
  });

  it('keeps rooms apart', () => {
    const { client, sockets } = setup({ rooms: ['general', 'random'] });
    const s = online(client, sockets);
    s.push(joined('general', [], 0), joined('random', [], 0), msg('general', 1, 'to general'), msg('random', 1, 'to random'));
    expect(texts(client, 'general')).toEqual(['to general']);
    expect(texts(client, 'random')).toEqual(['to random']);
  });

  it('detects a gap and re-joins with since', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [msg('general', 1, 'a')], 1));
    s.sent = [];
    s.push(msg('general', 4, 'd'), msg('general', 5, 'e'));
    expect(s.of('join')).toEqual([{ type: 'join', room: 'general', since: 1 }]); // once
    expect(texts(client, 'general')).toEqual(['a']);
    s.push(joined('general', [msg('general', 2, 'b'), msg('general', 3, 'c'), msg('general', 4, 'd'), msg('general', 5, 'e')], 5));
    s.push(msg('general', 5, 'e'), msg('general', 6, 'f'));
    expect(texts(client, 'general')).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('starts from the first kept message when history is truncated', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push({ ...joined('general', [msg('general', 50, 'x'), msg('general', 51, 'y')], 51), truncated: true, first_kept: 50 });
    expect(texts(client, 'general')).toEqual(['x', 'y']);
    s.push(msg('general', 52, 'z'));
    expect(texts(client, 'general')).toEqual(['x', 'y', 'z']);
    expect(s.of('join').length).toBe(1);
  });

  it('tracks members with presence, shows notices, and shows typing for a while', () => {
    const { client, sockets, clock } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [], 0, [{ id: 'm-me', name: 'Alice' }]));
    s.push({ type: 'presence', room: 'general', changes: [{ event: 'joined', member: bob }], ts: 5 });
    expect(room(client, 'general').members.map((m) => m.name)).toEqual(['Alice', 'Bob']);
    s.push({ type: 'typing', room: 'general', from: bob });
    expect(room(client, 'general').typing.map((m) => m.name)).toEqual(['Bob']);
    clock.advance(4100);
    expect(room(client, 'general').typing).toEqual([]);
    s.push({ type: 'presence', room: 'general', changes: [{ event: 'left', member: bob }], ts: 6 });
    expect(room(client, 'general').members.map((m) => m.name)).toEqual(['Alice']);
    const notices = room(client, 'general').entries.filter((e) => e.kind === 'notice');
    expect(notices.map((n) => n.kind === 'notice' && n.event)).toEqual(['joined', 'left']);
  });

  it('applies a presence frame of many changes in order, with one notice per kind', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    const me = { id: 'm-me', name: 'Alice' };
    s.push(joined('general', [], 0, [me, bob]));
    const people = Array.from({ length: 25 }, (_, i) => ({ id: 'm-' + i, name: 'P' + i }));
    s.push({
      type: 'presence',
      room: 'general',
      ts: 7,
      changes: [
        { event: 'joined', member: me }, // our own join, already known: no notice
        ...people.map((m) => ({ event: 'joined' as const, member: m })),
        { event: 'left', member: bob },
        { event: 'disconnected', member: people[3] },
      ],
    });
    const r = room(client, 'general');
    expect(r.members.map((m) => m.id)).toEqual(['m-me', ...people.filter((_, i) => i !== 3).map((m) => m.id)]);
    const notices = r.entries.filter((e) => e.kind === 'notice');
    expect(notices.map((n) => n.kind === 'notice' && [n.event, n.members?.length ?? 1])).toEqual([
      ['joined', 25],
      ['left', 1],
      ['disconnected', 1],
    ]);
  });

  it('counts unread messages and mentions outside the active room', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [msg('general', 1, 'old')], 1));
    const events: string[] = [];
    client.on((e) => e.type === 'message' && events.push(e.entry.text));
    s.push(msg('general', 2, 'hey @alice'), msg('general', 3, 'x'), msg('lobby', 1, 'in lobby'));
    expect(room(client, 'general').unread).toBe(2);
    expect(room(client, 'general').mentions).toBe(1);
    expect(room(client, 'lobby').unread).toBe(0); // the lobby is active
    expect(events).toEqual(['hey @alice', 'x', 'in lobby']); // history is not an event
    client.setActive('General');
    expect(room(client, 'general').unread).toBe(0);
    // a host that is not on screen counts its active room too
    client.setVisible(false);
    s.push(msg('general', 4, 'while away'));
    expect(room(client, 'general').unread).toBe(1);
    client.setVisible(true);
    expect(room(client, 'general').unread).toBe(0);
  });

  it('remembers how many messages were unread when a room was opened', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [msg('general', 1, 'old')], 1));
    expect(client.unreadWhenOpened('general')).toBe(0);
    s.push(msg('general', 2, 'a'), msg('general', 3, 'b'), msg('general', 4, 'c'));
    client.setActive('General');
    expect(room(client, 'general').unread).toBe(0);
    expect(client.unreadWhenOpened('general')).toBe(3);
    expect(client.unreadWhenOpened('lobby')).toBe(0);
    // opened again with nothing new: none
    client.setActive('general');
    expect(client.unreadWhenOpened('general')).toBe(0);
    // back from another host: what came while it was off screen
    client.setVisible(false);
    s.push(msg('general', 5, 'while away'));
    client.setVisible(true);
    expect(client.unreadWhenOpened('general')).toBe(1);
    client.setActive('lobby');
    expect(client.unreadWhenOpened('general')).toBe(0);
  });

  it('updates member counts from the rooms list', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    s.push({ type: 'rooms', rooms: [{ name: 'lobby', members: 3 }, { name: 'general', members: 2 }] });
    expect(room(client, 'general').count).toBe(2);
    expect(room(client, 'random').listed).toBe(false);
  });
});

describe('sending', () => {
  it('goes pending -> sent on ack, and the echo is not shown twice', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [], 0));
    const { clientId } = client.send('general', 'hello');
    expect(clientId).toBeTruthy();
    expect(messages(client, 'general')[0]).toMatchObject({ text: 'hello', state: 'pending', own: true });
    expect(s.of('send')).toEqual([{ type: 'send', room: 'general', client_id: clientId, text: 'hello' }]);
    s.push({ type: 'ack', client_id: clientId, room: 'general', seq: 1, id: 'x1', ts: 9 }, msg('general', 1, 'hello', { id: 'm-me', name: 'Alice' }, clientId, 'x1'));
    expect(messages(client, 'general')).toHaveLength(1);
    expect(messages(client, 'general')[0]).toMatchObject({ state: 'sent', seq: 1, id: 'x1' });
    expect(room(client, 'general').lastSeq).toBe(1);
  });

  it('completes a send on its ack alone: the seq advances when contiguous and the echo drops out by seq', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [], 0));
    const a = client.send('general', 'first');
    s.push({ type: 'ack', client_id: a.clientId, room: 'general', seq: 1, id: 'x1', ts: 9 });
    expect(messages(client, 'general')[0]).toMatchObject({ state: 'sent', seq: 1, id: 'x1' });
    expect(room(client, 'general').lastSeq).toBe(1);
    // the echo changes nothing, even one that differs: it is dropped by seq
    s.push(msg('general', 1, 'not what was shown', { id: 'm-me', name: 'Alice' }, a.clientId, 'x1'));
    expect(messages(client, 'general').map((m) => m.text)).toEqual(['first']);
    // the next message is next in order, not a gap
    s.push(msg('general', 2, 'hi', bob, undefined, 'b2'));
    expect(s.of('join').filter((j) => j.room === 'general' && j.since !== undefined)).toEqual([]);
    // an ack past a message not seen yet completes the send but leaves the seq for that message
    const c = client.send('general', 'third');
    s.push({ type: 'ack', client_id: c.clientId, room: 'general', seq: 4, id: 'x4', ts: 10 });
    expect(room(client, 'general').lastSeq).toBe(2);
    expect(messages(client, 'general').at(-1)).toMatchObject({ state: 'sent', seq: 4 });
    s.push(msg('general', 3, 'between', bob, undefined, 'b3'), msg('general', 4, 'third', { id: 'm-me', name: 'Alice' }, c.clientId, 'x4'));
    expect(messages(client, 'general').map((m) => [m.seq, m.text])).toEqual([
      [1, 'first'],
      [2, 'hi'],
      [3, 'between'],
      [4, 'third'],
    ]);
    expect(room(client, 'general').lastSeq).toBe(4);
  });

  it('waits while offline, then sends once the room is joined again, under the same client_id', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [], 0));
    s.drop();
    const { clientId } = client.send('general', 'while away');
    expect(messages(client, 'general')[0].state).toBe('pending');
    client.reconnectNow();
    const s2 = sockets.last;
    s2.open();
    s2.push(welcome('sess-1'), joined('lobby', [], 0));
    expect(s2.of('send')).toEqual([]); // not before the room is joined
    s2.push(joined('general', [], 0));
    expect(s2.of('send')).toEqual([{ type: 'send', room: 'general', client_id: clientId, text: 'while away' }]);
  });

  it('resends an unacknowledged message after a reconnect, and the host’s dedupe leaves one copy', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [], 0));
    const { clientId } = client.send('general', 'once');
    // the host stored it, but the ack was lost with the connection
    s.drop();
    client.reconnectNow();
    const s2 = sockets.last;
    s2.open();
    expect(s2.sent[0].resume.rooms.general).toBe(0);
    // the resumed join brings the stored copy; the resend is answered with the original ack
    s2.push(welcome('sess-1'), joined('lobby', [], 0), joined('general', [msg('general', 1, 'once', { id: 'm-me', name: 'Alice' }, clientId, 'x1')], 1));
    expect(messages(client, 'general')).toHaveLength(1);
    expect(messages(client, 'general')[0].state).toBe('sent');
    expect(s2.of('send')).toEqual([]); // the history already confirmed it
  });

  it('fails after the ack timeout, retries with the same client_id, and resends timed-out ones after reconnecting', () => {
    const { client, sockets, clock } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [], 0));
    const { clientId } = client.send('general', 'slow');
    clock.advance(5001);
    expect(messages(client, 'general')[0]).toMatchObject({ state: 'failed', error: 'timeout' });
    client.retry(clientId!);
    expect(messages(client, 'general')[0].state).toBe('pending');
    expect(s.of('send').map((f) => f.client_id)).toEqual([clientId, clientId]);
    clock.advance(5001);
    expect(messages(client, 'general')[0].state).toBe('failed');
    s.drop();
    client.reconnectNow();
    sockets.last.open();
    sockets.last.push(welcome('sess-1'), joined('lobby', [], 0), joined('general', [], 0));
    expect(sockets.last.of('send').map((f) => f.client_id)).toEqual([clientId]);
    expect(messages(client, 'general')[0].state).toBe('pending');
  });

  it('fails on an error that names the message, in words the UI can translate', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [], 0));
    const errors: string[] = [];
    client.on((e) => e.type === 'error' && errors.push(e.code));
    const { clientId } = client.send('general', 'spam');
    s.push({ type: 'error', code: 'rate_limited', message: 'slow down', ref: clientId });
    expect(messages(client, 'general')[0]).toMatchObject({ state: 'failed', error: 'rate_limited' });
    expect(errors).toEqual(['rate_limited']);
    client.discard(clientId!);
    expect(messages(client, 'general')).toEqual([]);
  });

  it('refuses empty and too long text before sending', () => {
    const { client, sockets } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [], 0));
    expect(client.send('general', '  \n ')).toEqual({ error: 'empty_text' });
    expect(client.send('general', 'ç'.repeat(26))).toEqual({ error: 'text_too_long' }); // 52 bytes > 50
    expect(client.send('general', 'ç'.repeat(25)).clientId).toBeTruthy();
    expect(s.of('send')).toHaveLength(1);
  });

  it('sends typing at most once per typing_ms', () => {
    const { client, sockets, clock } = setup({ rooms: ['general'] });
    const s = online(client, sockets);
    s.push(joined('general', [], 0));
    client.typing('general');
    client.typing('general');
    clock.advance(1999);
    client.typing('general');
    clock.advance(1);
    client.typing('general');
    expect(s.of('typing')).toHaveLength(2);
  });
});

describe('mentions', () => {
  it('finds the name as a word, with or without @', () => {
    expect(mentions('hi @Ana!', 'ana')).toBe(true);
    expect(mentions('Ana, look', 'Ana')).toBe(true);
    expect(mentions('Anabel here', 'Ana')).toBe(false);
    expect(mentions('hi João', 'joão')).toBe(true);
    expect(mentions('a.b', 'a.b')).toBe(true);
    expect(mentions('axb', 'a.b')).toBe(false);
  });
});
