import { describe, expect, it } from 'vitest';
import { LanchatClient, mentions, type MessageEntry, type RoomView } from './client';
import { parseBatch, utf8Length } from './protocol';
import { bob, joined, ManualClock, msg, Sockets, welcome } from './testing/fakes';

function setup(opts: Partial<ConstructorParameters<typeof LanchatClient>[0]> = {}) {
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

function room(c: LanchatClient, key: string): RoomView {
  const r = c.state.rooms.find((x) => x.key === key);
  if (!r) throw new Error('no room ' + key);
  return r;
}

function messages(c: LanchatClient, key: string): MessageEntry[] {
  return room(c, key).entries.filter((e): e is MessageEntry => e.kind === 'message');
}

function texts(c: LanchatClient, key: string): string[] {
  return messages(c, key).map((m) => m.text);
}

/** withEpoch gives a welcome or joined frame the host's history epoch. */
function withEpoch<T extends object>(frame: T, epoch: string): T & { epoch: string } {
  return { ...frame, epoch };
}

/** entryWrites counts assignments to a room's entries from now on (the room is the client's own, not its view). */
function entryWrites(c: LanchatClient, key: string): { n: number } {
  const r = (c as unknown as { rooms: Map<string, { entries: unknown[] }> }).rooms.get(key);
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
function online(c: LanchatClient, sockets: Sockets, session = 'sess-1') {
  c.connect();
  const s = sockets.last;
  s.open();
  s.push(welcome(session), joined('lobby', [], 0));
  return s;
}

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

  it('marks a resumed room gone when the host no longer has it', () => {
    const { client, sockets } = setup({ rooms: ['random'] });
    const s = online(client, sockets);
    s.push(joined('random', [msg('random', 1, 'r')], 1));
    s.drop();
    client.reconnectNow();
    sockets.last.open();
    sockets.last.push(welcome('sess-2'), { type: 'error', code: 'no_such_room', message: 'gone', ref: 'random' }, joined('lobby', [], 0));
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

  it('opens a private conversation and makes it the active room', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    client.dm(bob.id);
    expect(s.of('dm')).toEqual([{ type: 'dm', member: bob.id }]);
    s.push(joined('@Alice+Bob', [], 0, [{ id: 'm-me', name: 'Alice' }, bob]));
    expect(client.state.active).toBe('@alice+bob');
    expect(room(client, '@alice+bob').private).toBe(true);
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
