// Failover between the boxes of a cluster (docs/protocol.md, "welcome":
// boxes): when its box is lost, the client goes on at another box with the
// same hello, and rooms, seqs and unacknowledged sends carry over as for a
// reconnect to the same box. The member id changes.

import { describe, expect, it } from 'vitest';
import { NAME_RETRY_MS, OPEN_TIMEOUT_MS } from './connection';
import { bob, joined, msg, welcome, type FakeSocket } from './testing/fakes';
import { messages, room, setup, texts } from './testing/harness';

const BOX1 = 'ws://127.0.0.1:47800/ws';
const BOX2 = 'ws://10.0.0.2:47800/ws';
const BOX3 = 'ws://10.0.0.3:47801/ws';
const LINKS = { box1: 'http://127.0.0.1:47800/', box2: 'http://10.0.0.2:47800/', box3: 'http://10.0.0.3:47801/' };

const me1 = { id: 'm-me', name: 'Alice' };
const me2 = { id: 'm-me2', name: 'Alice' };

/** welcomeFrom is a box's welcome: its own host id, our member on it, and the other boxes. */
function welcomeFrom(hostId: string, member: { id: string; name: string }, boxes: string[], session = 'sess-' + hostId) {
  return { ...welcome(session, member, hostId), boxes };
}

/** onBox1 connects to box 1 (which names boxes 2 and 3) and is in general with seqs 1-3. */
function onBox1(opts: Parameters<typeof setup>[0] = {}) {
  const t = setup({ rooms: ['general'], ...opts });
  const { client, sockets } = t;
  client.connect();
  const s1 = sockets.last;
  s1.open();
  s1.push(welcomeFrom('box1', me1, [LINKS.box2, LINKS.box3], 'sess-1'), joined('lobby', [], 0));
  s1.push(joined('general', [msg('general', 1, 'a'), msg('general', 2, 'b')], 2), msg('general', 3, 'c'));
  return { ...t, s1 };
}

/** waitForSocket lets the backoff run until the client opens its next socket, and returns it. */
function waitForSocket(t: ReturnType<typeof setup>): FakeSocket {
  const before = t.sockets.all.length;
  for (let i = 0; i < 100 && t.sockets.all.length === before; i++) t.clock.advance(100);
  expect(t.sockets.all.length).toBe(before + 1);
  return t.sockets.last;
}

/** loseBox1 drops box 1; the attempt at box 1 fails, and the next socket (box 2's) opens. */
function loseBox1(t: ReturnType<typeof onBox1>): FakeSocket {
  t.s1.drop();
  const again = waitForSocket(t);
  expect(again.url).toBe(BOX1); // first the box we were on: it may only have blinked
  again.drop(); // refused: box 1 is gone
  const s2 = waitForSocket(t);
  expect(s2.url).toBe(BOX2);
  s2.open();
  return s2;
}

describe('failover to another box', () => {
  it('tries the next box after the current one fails, and that box is the current one from then on', () => {
    const t = onBox1();
    const { client, sockets } = t;
    const s2 = loseBox1(t);
    expect(s2.sent[0].type).toBe('hello');
    s2.push(welcomeFrom('box2', me2, [LINKS.box1, LINKS.box3]), joined('lobby', [], 0), joined('general', [msg('general', 4, 'd')], 4));
    expect(client.state.status.kind).toBe('online');
    // another host id, but the same cluster: nothing was reset, nothing is fetched again
    expect(texts(client, 'general')).toEqual(['a', 'b', 'c', 'd']);
    expect(room(client, 'general').entries.filter((e) => e.kind === 'notice')).toEqual([]);
    expect(s2.of('join')).toEqual([]);
    expect(client.state.me).toEqual(me2);
    // a later drop starts at box 2, then goes on to the boxes box 2 named
    s2.drop();
    const again = waitForSocket(t);
    expect(again.url).toBe(BOX2);
    again.drop();
    expect(waitForSocket(t).url).toBe(BOX1);
    sockets.last.drop();
    expect(waitForSocket(t).url).toBe(BOX3);
  });

  it('gives up on a box whose socket does not open in time, and goes on to the next', () => {
    const t = onBox1();
    t.s1.drop();
    const hanging = waitForSocket(t);
    expect(hanging.url).toBe(BOX1);
    const n = t.sockets.all.length;
    t.clock.advance(OPEN_TIMEOUT_MS - 1);
    expect(t.sockets.all.length).toBe(n);
    t.clock.advance(1);
    expect(hanging.closed).toBeDefined();
    expect(waitForSocket(t).url).toBe(BOX2);
  });

  it('goes straight to another box when its box says it is shutting down', () => {
    const t = onBox1();
    t.s1.push({ type: 'error', code: 'shutting_down', message: 'bye' });
    t.s1.drop(1001);
    expect(waitForSocket(t).url).toBe(BOX2);
  });

  it('resumes the rooms with their seqs at the new box, and sends the host token to no other box', () => {
    const t = onBox1({ hostToken: 'secret' });
    expect(t.s1.sent[0].host_token).toBe('secret');
    const s2 = loseBox1(t);
    expect(s2.sent[0]).toEqual({
      type: 'hello',
      version: 1,
      name: 'Alice',
      device: 'd-1',
      // the session is box 1's: box 2 starts a new one, which is why the member id changes
      resume: { session: 'sess-1', rooms: { lobby: 0, general: 3 } },
    });
  });

  it('retries name_taken from the new box while the lost box may hold the name, then gets in', () => {
    const t = onBox1();
    const { client } = t;
    let s = loseBox1(t);
    const errors: string[] = [];
    client.on((e) => e.type === 'error' && errors.push(e.code));
    // the lost box still holds "Alice" for a few seconds: box 2 refuses, twice
    for (let i = 0; i < 2; i++) {
      s.push({ type: 'error', code: 'name_taken', message: 'taken' });
      s.drop(1008);
      expect(client.state.status.kind).toBe('waiting');
      s = waitForSocket(t);
      expect(s.url).toBe(BOX2); // the same box: it is up, it only said the name is held
      s.open();
      expect(s.sent[0]).toMatchObject({ type: 'hello', name: 'Alice' });
    }
    s.push(welcomeFrom('box2', me2, [LINKS.box1, LINKS.box3]), joined('lobby', [], 0), joined('general', [], 3));
    expect(client.state.status.kind).toBe('online');
    expect(client.state.me?.name).toBe('Alice');
    expect(errors).toEqual(['name_taken', 'name_taken']);
  });

  it('takes name_taken as the refusal it is once the retries have lasted NAME_RETRY_MS', () => {
    const t = onBox1();
    const { client, clock } = t;
    let s = loseBox1(t);
    const first = clock.now();
    for (;;) {
      s.push({ type: 'error', code: 'name_taken', message: 'taken' });
      s.drop(1008);
      if (client.state.status.kind === 'refused') break;
      expect(clock.now() - first).toBeLessThan(NAME_RETRY_MS);
      s = waitForSocket(t);
      s.open();
    }
    expect(clock.now() - first).toBeGreaterThanOrEqual(NAME_RETRY_MS);
    expect(client.state.status).toEqual({ kind: 'refused', code: 'name_taken' });
    const n = t.sockets.all.length;
    clock.advance(60_000);
    expect(t.sockets.all.length).toBe(n);
  });

  it('keeps name_taken fatal on a reconnect to a host on its own', () => {
    const { client, sockets, clock } = setup();
    client.connect();
    sockets.last.open();
    sockets.last.push(welcome(), joined('lobby', [], 0));
    sockets.last.drop();
    clock.advance(1000);
    sockets.last.open();
    sockets.last.push({ type: 'error', code: 'name_taken', message: 'taken' });
    sockets.last.drop(1008);
    expect(client.state.status).toEqual({ kind: 'refused', code: 'name_taken' });
  });
});

describe('what carries over to the new box', () => {
  it('resends an unacknowledged message once, under the same client_id, and the new box’s ack completes it', () => {
    const t = onBox1();
    const { client } = t;
    const { clientId } = client.send('general', 'are you there?');
    expect(t.s1.of('send').map((f) => f.client_id)).toEqual([clientId]);
    // box 1 dies before its ack; a refused hello at box 2 sends nothing
    let s2 = loseBox1(t);
    s2.push({ type: 'error', code: 'name_taken', message: 'taken' });
    s2.drop(1008);
    expect(s2.of('send')).toEqual([]);
    s2 = waitForSocket(t);
    s2.open();
    s2.push(welcomeFrom('box2', me2, [LINKS.box1, LINKS.box3]), joined('lobby', [], 0));
    expect(s2.of('send')).toEqual([]); // not before general is joined
    s2.push(joined('general', [], 3));
    expect(s2.of('send')).toEqual([{ type: 'send', room: 'general', client_id: clientId, text: 'are you there?' }]);
    expect(messages(client, 'general').at(-1)).toMatchObject({ state: 'pending', own: true });
    s2.push({ type: 'ack', client_id: clientId, room: 'general', seq: 4, id: 'x4', ts: 9 });
    s2.push(msg('general', 4, 'are you there?', me2, clientId, 'x4'));
    expect(texts(client, 'general')).toEqual(['a', 'b', 'c', 'are you there?']);
    expect(messages(client, 'general').at(-1)).toMatchObject({ state: 'sent', seq: 4, own: true });
    expect(s2.of('send')).toHaveLength(1);
  });

  it('does not resend a message the lost box stored before it could ack: the new box’s history has it', () => {
    const t = onBox1();
    const { client } = t;
    const { clientId } = client.send('general', 'stored');
    const s2 = loseBox1(t);
    s2.push(
      welcomeFrom('box2', me2, [LINKS.box3]),
      joined('lobby', [], 0),
      joined('general', [msg('general', 4, 'stored', me1, clientId, 'x4')], 4),
    );
    expect(s2.of('send')).toEqual([]);
    expect(texts(client, 'general')).toEqual(['a', 'b', 'c', 'stored']);
    expect(messages(client, 'general').at(-1)).toMatchObject({ state: 'sent', seq: 4, own: true });
  });

  it('shows a message seen on both boxes once', () => {
    const t = onBox1();
    const { client } = t;
    const s2 = loseBox1(t);
    // box 2 repeats what box 1 delivered (seq 3), in the resume and live
    s2.push(
      welcomeFrom('box2', me2, [LINKS.box3]),
      joined('lobby', [], 0),
      joined('general', [msg('general', 3, 'c'), msg('general', 4, 'd')], 4),
      msg('general', 3, 'c'),
      msg('general', 4, 'd'),
      msg('general', 5, 'e'),
    );
    expect(texts(client, 'general')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(room(client, 'general').lastSeq).toBe(5);
  });
});

describe('the member id changes', () => {
  it('keeps counting messages under the earlier id as ours', () => {
    const t = onBox1({ rooms: ['general', 'random'] });
    const { client, s1 } = t;
    s1.push(joined('random', [], 0));
    const { clientId } = client.send('general', 'before');
    s1.push({ type: 'ack', client_id: clientId, room: 'general', seq: 4, id: 'x4', ts: 9 }, msg('general', 4, 'before', me1, clientId, 'x4'));
    const s2 = loseBox1(t);
    s2.push(welcomeFrom('box2', me2, [LINKS.box3]), joined('lobby', [], 0), joined('general', [], 4));
    // a message of ours from box 1's time, arriving now (history of a room joined afresh): ours, not a stranger's
    client.leave('random');
    s2.push({ type: 'left', room: 'random' });
    client.join('random');
    s2.push(joined('random', [msg('random', 1, 'earlier', me1, 'c-old', 'r1'), msg('random', 2, 'hi', bob)], 2));
    const random = messages(client, 'random');
    expect(random.map((m) => [m.text, m.own])).toEqual([
      ['earlier', true],
      ['hi', false],
    ]);
    expect(messages(client, 'general').find((m) => m.text === 'before')).toMatchObject({ own: true, state: 'sent' });
    // the unread count and mentions leave our own messages out
    expect(room(client, 'random').unread).toBe(0);
  });

  it('does not list or announce the lost box’s ghost of us, nor show it typing', () => {
    const t = onBox1();
    const { client } = t;
    const s2 = loseBox1(t);
    // box 2 still lists our box-1 self until the cluster notices box 1 is gone
    s2.push(welcomeFrom('box2', me2, [LINKS.box3]), joined('lobby', [], 0), joined('general', [], 3, [bob, me1, me2]));
    expect(room(client, 'general').members.map((m) => m.id)).toEqual(['m-bob', 'm-me2']);
    s2.push({ type: 'typing', room: 'general', from: me1 });
    expect(room(client, 'general').typing).toEqual([]);
    s2.push({ type: 'presence', room: 'general', changes: [{ event: 'disconnected', member: me1 }], ts: 5, count: 2 });
    s2.push({ type: 'presence', room: 'general', changes: [{ event: 'joined', member: me1 }], ts: 6, count: 3 });
    expect(room(client, 'general').members.map((m) => m.id)).toEqual(['m-bob', 'm-me2']);
    expect(room(client, 'general').entries.filter((e) => e.kind === 'notice')).toEqual([]);
    // someone else's presence still shows
    s2.push({ type: 'presence', room: 'general', changes: [{ event: 'left', member: bob }], ts: 7, count: 1 });
    expect(room(client, 'general').entries.filter((e) => e.kind === 'notice')).toMatchObject([{ event: 'left', member: bob }]);
  });
});
