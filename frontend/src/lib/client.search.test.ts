// Message search (docs/protocol.md, "search" and "history"): the client asks,
// keeps the answer to its latest query, and brings a found message into view,
// asking for older history when the room does not show it yet.

import { describe, expect, it } from 'vitest';
import { joined, msg, welcome } from './testing/fakes';
import { messages, online, room, setup } from './testing/harness';

const ana = { id: 'm-ana', name: 'Ana' };

function results(query: string, hits: object[], more = false) {
  return { type: 'search_results', query, results: hits, more };
}

describe('searching messages', () => {
  it('sends the query trimmed and keeps the answer to it', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    expect(client.search('  prova ')).toBeUndefined();
    expect(s.of('search')).toEqual([{ type: 'search', query: 'prova' }]);
    expect(client.state.search).toMatchObject({ query: 'prova', pending: true, results: [] });
    const hit = { room: 'general', seq: 4, id: 'g4', from: ana, ts: 9, snippet: [{ text: 'a ' }, { text: 'prova', match: true }] };
    s.push(results('prova', [hit], true));
    expect(client.state.search).toEqual({
      query: 'prova',
      pending: false,
      more: true,
      results: [{ ...hit, snippet: [{ text: 'a ', match: false }, { text: 'prova', match: true }] }],
    });
  });

  it('drops an answer to an earlier query, and any answer once the search is closed', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    client.search('pro');
    client.search('prova');
    s.push(results('pro', [{ room: 'general', seq: 1, id: 'x', from: ana, ts: 1, snippet: [] }]));
    expect(client.state.search).toMatchObject({ query: 'prova', pending: true, results: [] });
    client.clearSearch();
    s.push(results('prova', []));
    expect(client.state.search).toBeUndefined();
  });

  it('says why it cannot ask: a blank or long query, a host that does not search, offline', () => {
    const { client, sockets } = setup();
    expect(client.search('prova')).toBe('offline');
    expect(client.state.search).toMatchObject({ error: 'offline', pending: false });
    const s = online(client, sockets);
    expect(client.search('  ')).toBe('bad_query');
    expect(client.search('x'.repeat(101))).toBe('bad_query');
    expect(s.of('search')).toEqual([]);
    s.push({ ...welcome('sess-1'), limits: { ...welcome().limits, search: false } });
    expect(client.search('prova')).toBe('search_off');
    expect(client.state.search).toMatchObject({ error: 'search_off' });
    expect(s.of('search')).toEqual([]);
  });

  it("takes the host's refusal of the search (an error without a ref) as its answer", () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    client.search('prova');
    s.push({ type: 'error', code: 'rate_limited', message: 'slow down' });
    expect(client.state.search).toMatchObject({ query: 'prova', pending: false, error: 'rate_limited' });
  });
});

describe('showing a message a search found', () => {
  it('joins the room, makes it active and focuses the message when it is shown already', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    client.show('general', 2);
    expect(s.of('join')).toEqual([{ type: 'join', room: 'general' }]);
    expect(client.state.active).toBe('general');
    expect(client.state.focus).toEqual({ room: 'general', seq: 2 });
    s.push({ ...joined('general', [msg('general', 1, 'a'), msg('general', 2, 'prova')], 2), first_kept: 1 });
    expect(s.of('history')).toEqual([]);
    client.focused();
    expect(client.state.focus).toBeUndefined();
  });

  it('asks for older history down to a little before the message, and shows it above what was there', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    const hist = Array.from({ length: 100 }, (_, i) => msg('general', 201 + i, 'm' + (201 + i)));
    s.push({ ...joined('general', hist, 300), first_kept: 1 });
    client.show('general', 150);
    expect(s.of('history')).toEqual([{ type: 'history', room: 'general', before: 201, limit: 61 }]);
    const older = Array.from({ length: 61 }, (_, i) => msg('general', 140 + i, 'm' + (140 + i)));
    s.push({ type: 'history', room: 'general', before: 201, messages: older, first_kept: 1 });
    const seqs = messages(client, 'general').map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: 161 }, (_, i) => 140 + i));
    expect(room(client, 'general').lastSeq).toBe(300); // older history does not move the room's seq
    expect(s.of('history')).toHaveLength(1); // the message is shown: nothing more to ask
    // a live message still goes at the end
    s.push(msg('general', 301, 'new'));
    expect(messages(client, 'general').at(-1)?.seq).toBe(301);
  });

  it('asks again while the host sends less than needed at once, and stops at what it keeps', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    s.push({ ...joined('general', [msg('general', 1200, 'x')], 1200), first_kept: 300 });
    client.show('general', 100); // older than the host keeps
    expect(s.of('history')).toEqual([{ type: 'history', room: 'general', before: 1200, limit: 500 }]);
    s.push({ type: 'history', room: 'general', before: 1200, messages: Array.from({ length: 500 }, (_, i) => msg('general', 700 + i, 'o')), first_kept: 300 });
    expect(s.of('history').at(-1)).toEqual({ type: 'history', room: 'general', before: 700, limit: 400 });
    s.push({ type: 'history', room: 'general', before: 700, messages: Array.from({ length: 400 }, (_, i) => msg('general', 300 + i, 'o')), first_kept: 300 });
    expect(s.of('history')).toHaveLength(2);
    expect(messages(client, 'general')[0].seq).toBe(300);
  });

  it('in a room not joined yet, asks once the joined frame says what it shows', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    client.show('random', 5);
    expect(s.of('history')).toEqual([]);
    s.push({ ...joined('random', [msg('random', 50, 'x')], 50), first_kept: 1 });
    expect(s.of('history')).toEqual([{ type: 'history', room: 'random', before: 50, limit: 49 }]);
    // a history answer for another before (a stale one) is dropped
    s.push({ type: 'history', room: 'random', before: 40, messages: [msg('random', 3, 'stale')] });
    expect(messages(client, 'random').map((m) => m.seq)).toEqual([50]);
  });

  it('keeps own messages and tombstones from older history as they are', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    s.push({ ...joined('general', [msg('general', 10, 'x')], 10), first_kept: 1 });
    client.show('general', 2);
    s.push({
      type: 'history',
      room: 'general',
      before: 10,
      messages: [msg('general', 1, 'mine', { id: 'm-me', name: 'Alice' }), { ...msg('general', 2, ''), deleted: true }],
    });
    const [a, b] = messages(client, 'general');
    expect(a).toMatchObject({ seq: 1, own: true, text: 'mine' });
    expect(b).toMatchObject({ seq: 2, deleted: true });
  });
});
