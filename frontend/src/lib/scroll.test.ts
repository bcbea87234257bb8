import { describe, expect, it } from 'vitest';
import { atBottom, firstUnread, newSince, openingTop } from './scroll';
import type { Entry } from './types';

function m(key: string, own = false): Entry {
  return { kind: 'message', key, own, from: { id: own ? 'me' : 'x', name: own ? 'Me' : 'X' }, text: key, ts: 0, state: 'sent' } as Entry;
}
function n(key: string): Entry {
  return { kind: 'notice', key, event: 'joined' } as Entry;
}

describe('firstUnread', () => {
  const entries = [m('a'), m('b'), n('n1'), m('mine', true), m('c'), n('n2'), m('d')];
  it('finds the first of the last n messages from others', () => {
    expect(firstUnread(entries, 1)).toBe('d');
    expect(firstUnread(entries, 2)).toBe('c'); // notices and own messages do not count
    expect(firstUnread(entries, 3)).toBe('b');
  });
  it('is the first such message when the count is larger than the list', () => {
    expect(firstUnread(entries, 30)).toBe('a');
  });
  it('is none when nothing is unread', () => {
    expect(firstUnread(entries, 0)).toBeUndefined();
    expect(firstUnread([], 3)).toBeUndefined();
    expect(firstUnread([n('n'), m('mine', true)], 2)).toBeUndefined();
  });
});

describe('newSince', () => {
  const entries = [m('a'), m('b'), n('n1'), m('mine', true), m('c'), m('d')];
  it('counts messages from others after the one last seen', () => {
    expect(newSince(entries, 'b')).toBe(2);
    expect(newSince(entries, 'c')).toBe(1);
    expect(newSince(entries, 'd')).toBe(0);
    expect(newSince(entries, 'a')).toBe(3);
  });
  it('counts none for an unknown or missing key', () => {
    expect(newSince(entries, 'zz')).toBe(0);
    expect(newSince(entries, undefined)).toBe(0);
  });
});

describe('atBottom and openingTop', () => {
  it('treats a few pixels from the end as the bottom', () => {
    expect(atBottom(500, 1000, 500)).toBe(true);
    expect(atBottom(450, 1000, 500)).toBe(true);
    expect(atBottom(400, 1000, 500)).toBe(false);
  });
  it('opens at the divider when what follows does not fit, else at the bottom', () => {
    expect(openingTop(300, 2000, 500)).toBe(276);
    expect(openingTop(1800, 2000, 500)).toBe(1500);
    expect(openingTop(10, 2000, 500)).toBe(0);
    expect(openingTop(10, 300, 500)).toBe(0);
  });
});
