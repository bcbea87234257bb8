import { describe, expect, it } from 'vitest';
import { checkQuery, CONTEXT_BEFORE, errorKey, HISTORY_MAX, historyRequest, placeOf, searchHits, snippetParts } from './search';
import type { RoomView } from './types';

describe('checkQuery', () => {
  it('refuses blank and over-long queries, counting characters, not bytes', () => {
    expect(checkQuery('')).toBe('bad_query');
    expect(checkQuery('   ')).toBe('bad_query');
    expect(checkQuery('x'.repeat(101))).toBe('bad_query');
    expect(checkQuery('ç'.repeat(100))).toBeUndefined();
    expect(checkQuery('😀'.repeat(100))).toBeUndefined();
    expect(checkQuery(' prova ')).toBeUndefined();
    expect(checkQuery('"')).toBeUndefined(); // valid: it finds nothing
  });
});

describe('snippetParts and searchHits', () => {
  it('keep text parts as plain strings and drop anything else', () => {
    expect(snippetParts([{ text: 'a ' }, { text: '<b>Prova</b>', match: true }, { text: 5 }, null, 'x', { match: true }])).toEqual([
      { text: 'a ', match: false },
      { text: '<b>Prova</b>', match: true },
    ]);
    expect(snippetParts(undefined)).toEqual([]);
    expect(snippetParts({ text: 'x' })).toEqual([]);
  });

  it('keep results that name a room, a seq and an author', () => {
    const from = { id: 'm-1', name: 'Ana' };
    const hits = searchHits([
      { room: 'general', seq: 3, id: 'a', from, ts: 5, snippet: [{ text: 'prova', match: true }] },
      { room: 'general', seq: 0, id: 'b', from, ts: 5, snippet: [] },
      { room: 7, seq: 3, from },
      { room: 'x', seq: 2 },
      { room: '@a-b', seq: 1, id: 'c', from, ts: 'nope', snippet: 'oops' },
    ]);
    expect(hits).toEqual([
      { room: 'general', seq: 3, id: 'a', from, ts: 5, snippet: [{ text: 'prova', match: true }] },
      { room: '@a-b', seq: 1, id: 'c', from, ts: 0, snippet: [] },
    ]);
    expect(searchHits(null)).toEqual([]);
  });
});

describe('placeOf', () => {
  const me = { id: 'm-me', name: 'Alice' };
  const view = (key: string, name: string, extra: Partial<RoomView> = {}) => ({ key, name, ...extra }) as RoomView;
  const hit = (room: string, from = { id: 'm-bob', name: 'Bob' }) => ({ room, seq: 1, id: 'x', from, ts: 0, snippet: [] });

  it('names a room as the rooms list spells it, and knows the lobby', () => {
    expect(placeOf(hit('general'), [view('general', 'General')], me)).toEqual({ room: 'General', lobby: false, private: false });
    expect(placeOf(hit('lobby'), [], me)).toMatchObject({ lobby: true });
  });

  it('names a private conversation by the other person: the room knows, or the author when not us', () => {
    expect(placeOf(hit('@a-b'), [view('@a-b', '@a-b', { private: true, with: 'Carla' })], me)).toMatchObject({ private: true, with: 'Carla' });
    expect(placeOf(hit('@a-b'), [], me)).toMatchObject({ private: true, with: 'Bob' });
    expect(placeOf(hit('@a-b', me), [], me)).toMatchObject({ private: true, with: undefined });
  });
});

describe('historyRequest', () => {
  it('asks for what lies between the message (and a few before it) and the oldest shown', () => {
    expect(historyRequest(900, 850)).toEqual({ before: 900, limit: 50 + CONTEXT_BEFORE });
    expect(historyRequest(12, 3)).toEqual({ before: 12, limit: 11 }); // from seq 1
  });

  it('asks at most what the host sends at once (the client asks again after)', () => {
    expect(historyRequest(5000, 100)).toEqual({ before: 5000, limit: HISTORY_MAX });
  });

  it('asks nothing when the message is shown, or is older than the host keeps', () => {
    expect(historyRequest(900, 900)).toBeUndefined();
    expect(historyRequest(900, 950)).toBeUndefined();
    expect(historyRequest(40, 10, 40)).toBeUndefined();
    expect(historyRequest(50, 10, 40)).toEqual({ before: 50, limit: 10 });
    expect(historyRequest(1, 0)).toBeUndefined();
  });
});

describe('errorKey', () => {
  it("uses the search's own words where the general ones would mislead", () => {
    expect(errorKey('offline')).toBe('search.error.offline');
    expect(errorKey('rate_limited')).toBe('search.error.rate_limited');
    expect(errorKey('search_off')).toBe('error.search_off');
    expect(errorKey('bad_query')).toBe('error.bad_query');
  });
});
