import { get } from 'svelte/store';
import { describe, expect, it } from 'vitest';
import type { MessageEntry } from '../lib/types';
import { mayClosePoll, mayPostPolls, quoteOf, replying, replyTo, whereOf } from './conversation';

const ana = { id: 'm-ana', name: 'Ana' };
function entry(over: Partial<MessageEntry> = {}): MessageEntry {
  return { kind: 'message', key: 'k' + (over.seq ?? 1), room: 'general', seq: 1, epoch: 0, id: 'i', from: ana, text: 'who has\nthe slides?', ts: 0, own: false, state: 'sent', ...over };
}

describe('conversation store', () => {
  it('replies only to stored messages, quoting their first line', () => {
    const where = whereOf('ws://h/ws', 'general');
    expect(replyTo(where, entry({ seq: undefined, state: 'pending' }))).toBe(false);
    expect(get(replying)).toBeUndefined();
    expect(replyTo(where, entry())).toBe(true);
    expect(get(replying)).toEqual({ where, seq: 1, name: 'Ana', line: 'who has', deleted: false });
    replying.set(undefined);
  });

  it('quotes the original as it is now: here, deleted, or not fetched yet', () => {
    const reply = entry({ seq: 5, replyTo: 1, replyFrom: ana, text: 'me' });
    expect(quoteOf(reply, [entry(), reply])).toEqual({ seq: 1, name: 'Ana', line: 'who has', deleted: false, here: true });
    expect(quoteOf(reply, [entry({ deleted: true, text: '' }), reply])).toMatchObject({ deleted: true, line: '', here: true });
    expect(quoteOf(reply, [reply])).toEqual({ seq: 1, name: 'Ana', line: '', deleted: false, here: false });
    expect(quoteOf(entry(), [])).toBeUndefined();
  });

  it('lets hosts post polls, and everyone when the host says so; authors and hosts close them', () => {
    const guest = { id: 'g', name: 'G' };
    const host = { id: 'h', name: 'H', role: 'host' };
    const limits = { polls: 'hosts' } as never;
    expect(mayPostPolls(guest, limits)).toBe(false);
    expect(mayPostPolls(host, limits)).toBe(true);
    expect(mayPostPolls(guest, { polls: 'everyone' } as never)).toBe(true);
    expect(mayPostPolls(host, {} as never)).toBe(false); // an older host has no polls
    const poll = entry({ poll: { options: ['a', 'b'], votes: {}, counts: [0, 0], closed: false } });
    expect(mayClosePoll(guest, poll)).toBe(false);
    expect(mayClosePoll(guest, { ...poll, own: true })).toBe(true);
    expect(mayClosePoll(host, poll)).toBe(true);
    expect(mayClosePoll(host, { ...poll, poll: { ...poll.poll!, closed: true } })).toBe(false);
  });
});
