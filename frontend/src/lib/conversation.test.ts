import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  canEdit,
  completeMention,
  conversationFields,
  firstLine,
  isOneEmoji,
  lastEditable,
  mentionAt,
  mentionChoices,
  mentionsEveryone,
  myVote,
  tally,
} from './conversation';
import type { Message } from './protocol';
import type { Entry, MessageEntry, NoticeEntry } from './types';

const ana = { id: 'm-ana', name: 'Ana' };
const bia = { id: 'm-bia', name: 'Bia' };
const prof = { id: 'm-prof', name: 'Prof', role: 'host' };

function entry(over: Partial<MessageEntry> = {}): MessageEntry {
  return { kind: 'message', key: 'k', room: 'general', seq: 1, epoch: 0, id: 'i', from: ana, text: 'the tset', ts: 0, own: false, state: 'sent', ...over };
}

function ev(type: Message['type'], from: typeof ana, fields: Partial<Message>): Message {
  return { type, room: 'general', seq: 9, id: 'e', from, text: '', ts: 0, target: 1, ...fields };
}

describe('applyEvent', () => {
  it('takes the author’s edits only', () => {
    const e = entry();
    const edited = applyEvent(e, ev('edited', ana, { text: 'the test' }));
    expect(edited).toMatchObject({ text: 'the test', edited: true });
    expect(applyEvent(e, ev('edited', bia, { text: 'forged' }))).toBe(e);
    expect(applyEvent(entry({ deleted: true, text: '' }), ev('edited', ana, { text: 'back' })).text).toBe('');
  });

  it('keeps one reaction per person and emoji, and takes it back', () => {
    let e = entry();
    e = applyEvent(e, ev('reaction', bia, { emoji: '👍' }));
    e = applyEvent(e, ev('reaction', bia, { emoji: '👍' }));
    e = applyEvent(e, ev('reaction', prof, { emoji: '👍' }));
    e = applyEvent(e, ev('reaction', bia, { emoji: '❤️' }));
    expect(e.reactions?.map((r) => [r.emoji, r.members.map((m) => m.name)])).toEqual([
      ['👍', ['Bia', 'Prof']],
      ['❤️', ['Bia']],
    ]);
    const before = e;
    expect(applyEvent(e, ev('reaction', ana, { emoji: '❤️', remove: true }))).toBe(before);
    e = applyEvent(e, ev('reaction', bia, { emoji: '❤️', remove: true }));
    expect(e.reactions?.map((r) => r.emoji)).toEqual(['👍']);
  });

  it('counts one vote per member, the last, until the poll closes', () => {
    const poll = { type: 'poll', room: 'general', seq: 1, id: 'p', from: prof, text: 'Friday?', ts: 0, options: ['yes', 'no'] } as Message;
    let e = entry({ from: prof, text: 'Friday?', ...conversationFields(poll) });
    e = applyEvent(e, ev('vote', ana, { option: 0 }));
    e = applyEvent(e, ev('vote', bia, { option: 0 }));
    e = applyEvent(e, ev('vote', ana, { option: 1 }));
    expect(e.poll?.counts).toEqual([1, 1]);
    expect(myVote(e.poll!, (id) => id === ana.id)).toBe(1);
    expect(applyEvent(e, ev('vote', ana, { option: 5 }))).toBe(e);
    e = applyEvent(e, ev('poll_closed', prof, { counts: [1, 1] }));
    expect(e.poll?.closed).toBe(true);
    expect(applyEvent(e, ev('vote', bia, { option: 1 })).poll?.counts).toEqual([1, 1]);
    expect(tally({ a: 0, b: 0, c: 2 }, 3)).toEqual([2, 0, 1]);
  });
});

describe('replies', () => {
  it('quote the first line of the original', () => {
    expect(firstLine('\n  who has the slides?\nI lost mine')).toBe('who has the slides?');
    expect(firstLine('x'.repeat(100), 10)).toBe('xxxxxxxxx…');
    const m = { type: 'message', room: 'g', seq: 3, id: 'r', from: bia, text: 'here', ts: 0, reply_to: 1, reply_from: ana } as Message;
    expect(conversationFields(m)).toEqual({ replyTo: 1, replyFrom: ana });
  });
});

describe('edits', () => {
  it('are for our own sent messages within the host’s time', () => {
    const mine = entry({ own: true, ts: 1000 });
    expect(canEdit(mine, 900, 1000 + 899_000)).toBe(true);
    expect(canEdit(mine, 900, 1000 + 901_000)).toBe(false);
    expect(canEdit(mine, 0, 1000)).toBe(false);
    expect(canEdit(mine, undefined, 1000)).toBe(false);
    expect(canEdit(entry({ own: false }), 900, 0)).toBe(false);
    expect(canEdit(entry({ own: true, state: 'pending', seq: undefined }), 900, 0)).toBe(false);
    expect(canEdit(entry({ own: true, deleted: true }), 900, 0)).toBe(false);
  });

  it('from the composer take our last message, passing over deleted ones, polls, others’ and notices', () => {
    const poll = { options: ['a', 'b'], votes: {}, counts: [0, 0], closed: false };
    const notice: NoticeEntry = { kind: 'notice', key: 'n', room: 'general', event: 'joined', member: bia, ts: 5000 };
    const first = entry({ key: 'a', seq: 1, own: true, ts: 1000 });
    const entries: Entry[] = [
      first,
      entry({ key: 'b', seq: 2, own: false, from: bia, ts: 2000 }),
      entry({ key: 'c', seq: 3, own: true, ts: 3000, deleted: true, text: '' }),
      entry({ key: 'd', seq: 4, own: true, ts: 4000, poll }),
      notice,
    ];
    expect(lastEditable(entries, 900, 5000)).toBe(first);
    expect(lastEditable([], 900, 5000)).toBeUndefined();
    expect(lastEditable(entries.slice(1), 900, 5000)).toBeUndefined();
  });

  it('from the composer, only while the host’s time lasts and once the last one is sent', () => {
    const first = entry({ key: 'a', seq: 1, own: true, ts: 1000 });
    expect(lastEditable([first], 900, 1000 + 899_000)).toBe(first);
    expect(lastEditable([first], 900, 1000 + 901_000)).toBeUndefined();
    expect(lastEditable([first], 0, 1000)).toBeUndefined();
    // the newest is still on its way: not the one before it
    const sending = entry({ key: 'b', seq: undefined, own: true, ts: 2000, state: 'pending' });
    expect(lastEditable([first, sending], 900, 2000)).toBeUndefined();
  });
});

describe('reactions', () => {
  it('accept one emoji, not words', () => {
    for (const ok of ['👍', '❤️', '👨‍👩‍👧', '🇧🇷', '✅', '👍🏽']) expect(isOneEmoji(ok), ok).toBe(true);
    for (const bad of ['', 'a', 'ok', '1', '👍 👍', ' ', 'x'.repeat(70)]) expect(isOneEmoji(bad), bad).toBe(false);
  });
});

describe('mentions', () => {
  const members = [ana, bia, { id: 'm-al', name: 'Álvaro Lima' }, { id: 'm-me', name: 'Alice' }, prof];

  it('find the word being typed after @', () => {
    expect(mentionAt('hi @an', 6)).toEqual({ start: 3, query: 'an' });
    expect(mentionAt('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionAt('mail a@b', 8)).toBeUndefined();
    expect(mentionAt('hi @ana there', 13)).toBeUndefined();
  });

  it('offer members by name start, then word start, never ourselves; @todos for hosts', () => {
    expect(mentionChoices(members, 'a', 'm-me', false)).toEqual(['Álvaro Lima', 'Ana']);
    expect(mentionChoices(members, 'li', 'm-me', false)).toEqual(['Álvaro Lima']);
    expect(mentionChoices(members, 't', 'm-me', false)).toEqual([]);
    expect(mentionChoices(members, 't', 'm-me', true)).toEqual(['todos']);
    expect(mentionChoices(members, '', 'm-me', true)).toEqual(['Álvaro Lima', 'Ana', 'Bia', 'Prof', 'todos', 'everyone']);
  });

  it('complete the name in place', () => {
    expect(completeMention('hi @an, ok', 3, 6, 'Ana')).toEqual({ text: 'hi @Ana , ok', caret: 8 });
  });

  it('notify everyone only from a host', () => {
    expect(mentionsEveryone('@todos prova amanhã', prof)).toBe(true);
    expect(mentionsEveryone('ok @everyone!', { ...bia, role: 'cohost' })).toBe(true);
    expect(mentionsEveryone('@todos prova amanhã', bia)).toBe(false);
    expect(mentionsEveryone('email@todos.com', prof)).toBe(false);
    expect(mentionsEveryone('@todosjuntos', prof)).toBe(false);
  });
});
