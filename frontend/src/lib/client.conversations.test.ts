import { describe, expect, it } from 'vitest';
import { bob, joined, msg } from './testing/fakes';
import { messages, online, room, setup } from './testing/harness';

const ev = (type: string, room: string, seq: number, target: number, fields: object = {}, from = bob) => ({
  type,
  room,
  seq,
  id: `${room}-${seq}`,
  from,
  text: '',
  ts: 1764067200000 + seq,
  target,
  ...fields,
});

describe('conversations', () => {
  it('sends a reply with the seq it answers, showing the original’s author at once', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    s.push(joined('lobby', [msg('lobby', 1, 'who has the slides?')], 1));
    const { clientId } = client.send('lobby', 'I do', 1);
    expect(s.of('send')).toEqual([{ type: 'send', room: 'lobby', client_id: clientId, text: 'I do', reply_to: 1 }]);
    expect(messages(client, 'lobby')[1]).toMatchObject({ replyTo: 1, replyFrom: { id: bob.id, name: 'Bob' }, state: 'pending' });
    s.push({ type: 'ack', client_id: clientId, room: 'lobby', seq: 2, id: 'x', ts: 1 });
    expect(messages(client, 'lobby')[1]).toMatchObject({ replyTo: 1, state: 'sent', seq: 2 });
  });

  it('sends a reply with files once they are up, with its reply_to', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    s.push(joined('lobby', [msg('lobby', 1, 'send me the handout')], 1));
    const { clientId } = client.sendFiles('lobby', 'here', [{ name: 'a.pdf', size: 3, type: 'application/pdf' }], 1);
    expect(s.of('send')).toEqual([]); // held while the file uploads
    expect(messages(client, 'lobby')[1]).toMatchObject({ replyTo: 1, replyFrom: { name: 'Bob' } });
    client.releaseFiles(clientId!, ['up-1']);
    expect(s.of('send')).toEqual([{ type: 'send', room: 'lobby', client_id: clientId, text: 'here', attachments: ['up-1'], reply_to: 1 }]);
  });

  it('applies events live and from history in seq order, with no gap for the events’ seqs', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    s.push(
      joined('lobby', [msg('lobby', 1, 'the tset'), ev('edited', 'lobby', 2, 1, { text: 'the test' }), ev('reaction', 'lobby', 3, 1, { emoji: '👍' }, { id: 'm-me', name: 'Alice' })], 3),
    );
    expect(messages(client, 'lobby')).toHaveLength(1);
    expect(messages(client, 'lobby')[0]).toMatchObject({ text: 'the test', edited: true });
    s.push(ev('reaction', 'lobby', 4, 1, { emoji: '👍' }), ev('poll', 'lobby', 5, 0, { text: 'Friday?', options: ['yes', 'no'], target: undefined }));
    s.push(ev('vote', 'lobby', 6, 5, { option: 1 }), ev('poll_closed', 'lobby', 7, 5, { counts: [0, 1] }));
    const [m, poll] = messages(client, 'lobby');
    expect(m.reactions).toEqual([{ emoji: '👍', members: [{ id: 'm-me', name: 'Alice' }, { id: bob.id, name: 'Bob' }] }]);
    expect(poll.poll).toMatchObject({ options: ['yes', 'no'], counts: [0, 1], closed: true });
    expect(room(client, 'lobby').lastSeq).toBe(7);
    expect(s.of('join')).toEqual([]); // no gap seen
    expect(client.isMine('m-me')).toBe(true);
  });

  it('sends reactions, edits, polls and votes as acked events, again after a reconnect', () => {
    const { client, sockets } = setup();
    let s = online(client, sockets);
    s.push(joined('lobby', [msg('lobby', 1, 'hi')], 1));
    const r = client.react('lobby', 1, '👍')!;
    const e = client.edit('lobby', 1, 'hello').clientId!;
    expect(client.poll('lobby', 'Q?', ['a', ' ', 'b']).clientId).toBeDefined();
    expect(client.poll('lobby', 'Q?', ['a', 'A']).error).toBe('bad_poll');
    expect(client.edit('lobby', 1, '  ').error).toBe('empty_text');
    const v = client.vote('lobby', 9, 0)!;
    expect(s.sent.filter((f) => f.type !== 'hello').map((f) => f.type)).toEqual(['react', 'edit', 'poll', 'vote']);
    expect(s.of('poll')[0]).toMatchObject({ room: 'lobby', text: 'Q?', options: ['a', 'b'] });
    expect(s.of('react')[0]).toEqual({ type: 'react', room: 'lobby', client_id: r, target: 1, emoji: '👍' });
    // the reaction is acked; the connection drops before the others are
    s.push({ type: 'ack', client_id: r, room: 'lobby', seq: 2, id: 'a', ts: 1 });
    s.push({ type: 'error', code: 'poll_closed', message: 'closed', ref: v });
    s.drop();
    client.reconnectNow();
    s = sockets.last;
    s.open();
    s.push({ type: 'welcome', version: 1, host: { id: 'h1', name: 'lab' }, member: { id: 'm-me', name: 'Alice' }, session: 'sess-1', limits: {}, rooms: [] });
    s.push(joined('lobby', [ev('reaction', 'lobby', 2, 1, { emoji: '👍', client_id: r }, { id: 'm-me', name: 'Alice' })], 2));
    // the edit and the poll go again under their client_ids; the acked reaction and the refused vote do not
    expect(s.of('edit').map((f) => f.client_id)).toEqual([e]);
    expect(s.of('poll')).toHaveLength(1);
    expect(s.of('react')).toEqual([]);
    expect(s.of('vote')).toEqual([]);
  });

  it('fetches a reply’s original older than its window, with the events that came before it', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    // the window starts at 5: the reaction at 6 acts on message 2, which we do not have
    s.push(joined('lobby', [msg('lobby', 5, 'older'), ev('reaction', 'lobby', 6, 2, { emoji: '✅' }), { ...msg('lobby', 7, 'yes, that'), reply_to: 2, reply_from: bob }], 7));
    expect(messages(client, 'lobby').map((m) => m.text)).toEqual(['older', 'yes, that']);
    expect(client.ensureLoaded('lobby', 7)).toBe(true);
    expect(client.ensureLoaded('lobby', 2)).toBe(false);
    expect(s.of('join').at(-1)).toEqual({ type: 'join', room: 'lobby', since: 1 });
    s.push(
      joined('lobby', [msg('lobby', 2, 'the question'), msg('lobby', 3, 'three'), msg('lobby', 4, 'four'), msg('lobby', 5, 'older'), ev('reaction', 'lobby', 6, 2, { emoji: '✅' }), msg('lobby', 7, 'yes, that')], 7),
    );
    const ms = messages(client, 'lobby');
    expect(ms.map((m) => m.seq)).toEqual([2, 3, 4, 5, 7]);
    expect(ms[0].reactions).toEqual([{ emoji: '✅', members: [{ id: bob.id, name: 'Bob' }] }]);
    expect(client.ensureLoaded('lobby', 2)).toBe(true);
  });

  it('counts a host’s @todos as a mention, and a guest’s not', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    s.push(joined('general', [], 0));
    s.push(msg('general', 1, '@todos prova amanhã', { id: 'm-p', name: 'Prof', role: 'host' } as typeof bob));
    s.push(msg('general', 2, '@todos festa!', bob));
    expect(room(client, 'general')).toMatchObject({ unread: 2, mentions: 1 });
  });
});
