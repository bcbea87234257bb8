import { describe, expect, it } from 'vitest';
import type { Attachment } from './protocol';
import { bob, joined, msg, welcome } from './testing/fakes';
import { messages, setup } from './testing/harness';

const pdf: Attachment = { id: 'a'.repeat(64), name: 'lista 3.pdf', size: 482113, type: 'application/octet-stream' };
const photo: Attachment = { id: 'b'.repeat(64), name: 'quadro.jpg', size: 2315220, type: 'image/jpeg', width: 3024, height: 4032, thumb: 'c'.repeat(64) };

function filesWelcome(key = 'k-1', uploads = 'everyone') {
  const w = welcome();
  return { ...w, files_key: key, limits: { ...w.limits, max_file: 1 << 20, uploads } };
}

function connected(w: object = filesWelcome()) {
  const { client, sockets, clock } = setup({ rooms: ['general'] });
  client.connect();
  const s = sockets.last;
  s.open();
  s.push(w, joined('lobby', [], 0), joined('general', [], 0));
  return { client, s, clock, sockets };
}

describe('messages with files', () => {
  it('others’ files come with their messages, live and in history; a deletion takes them', () => {
    const { client, s } = connected();
    s.push({ ...msg('general', 1, ''), attachments: [pdf, photo] });
    expect(messages(client, 'general')[0]).toMatchObject({ text: '', attachments: [pdf, photo] });
    s.push(joined('random', [{ ...msg('random', 4, 'see'), attachments: [pdf] }, { ...msg('random', 5, ''), deleted: true, attachments: [photo] }], 5));
    const r = messages(client, 'random');
    expect(r[0].attachments).toEqual([pdf]);
    expect(r[1].attachments).toBeUndefined();
    s.push({ type: 'deleted', room: 'general', seq: 1, id: 'general-1', by: bob });
    expect(messages(client, 'general')[0]).toMatchObject({ deleted: true, attachments: undefined });
  });

  it('holds a message with files until they are released, then sends it with the uploads’ ids', () => {
    const { client, s } = connected();
    const { clientId } = client.sendFiles('general', 'the handout', [{ name: 'lista 3.pdf', size: 482113, type: 'application/pdf' }]);
    expect(messages(client, 'general')[0]).toMatchObject({ state: 'pending', files: [{ name: 'lista 3.pdf' }] });
    // a reconnect's flush does not send it either
    s.push(joined('general', [], 0));
    expect(s.of('send')).toEqual([]);
    client.releaseFiles(clientId!, ['u-1']);
    expect(s.of('send')).toEqual([{ type: 'send', room: 'general', client_id: clientId, text: 'the handout', attachments: ['u-1'] }]);
  });

  it('a held message that fails stays held: the outbox’s retry does not send it without its files', () => {
    const { client, s } = connected();
    const { clientId } = client.sendFiles('general', '', [{ name: 'a', size: 1, type: '' }]);
    client.filesFailed(clientId!, 'network');
    expect(messages(client, 'general')[0]).toMatchObject({ state: 'failed', error: 'network' });
    client.retry(clientId!);
    expect(messages(client, 'general')[0].state).toBe('pending');
    expect(s.of('send')).toEqual([]);
    // cancelling takes it away
    client.discard(clientId!);
    expect(messages(client, 'general')).toEqual([]);
  });

  it('our message gets what the host stored from its echo, after the ack; a replay in history does too', () => {
    const { client, s, sockets, clock } = connected();
    const sent: string[] = [];
    client.on((e) => e.type === 'sent' && sent.push(e.clientId));
    const { clientId } = client.sendFiles('general', '', [{ name: 'quadro.jpg', size: 2315220, type: 'image/jpeg' }]);
    client.releaseFiles(clientId!, ['u-1']);
    s.push({ type: 'ack', client_id: clientId, room: 'general', seq: 1, id: 'm-1', ts: 9 });
    expect(sent).toEqual([clientId]);
    expect(messages(client, 'general')[0]).toMatchObject({ state: 'sent', seq: 1, files: [{ name: 'quadro.jpg' }] });
    s.push({ type: 'message', room: 'general', seq: 1, id: 'm-1', from: { id: 'm-me', name: 'Alice' }, text: '', ts: 9, client_id: clientId, attachments: [photo] });
    expect(messages(client, 'general')).toHaveLength(1);
    expect(messages(client, 'general')[0]).toMatchObject({ attachments: [photo], files: undefined });

    // another: the connection drops before the ack; the history after the resume says what was stored
    const second = client.sendFiles('general', 'and this', [{ name: 'lista 3.pdf', size: 482113, type: 'application/pdf' }]).clientId!;
    client.releaseFiles(second, ['u-2']);
    s.drop();
    clock.advance(5000);
    const s2 = sockets.last;
    s2.open();
    s2.push(filesWelcome(), joined('lobby', [], 0), joined('general', [{ type: 'message', room: 'general', seq: 2, id: 'm-2', from: { id: 'm-me', name: 'Alice' }, text: 'and this', ts: 10, client_id: second, attachments: [pdf] }], 2));
    expect(sent).toEqual([clientId, second]);
    expect(messages(client, 'general')[1]).toMatchObject({ state: 'sent', seq: 2, attachments: [pdf], files: undefined });
  });

  it('limits frames change who may send files; the files key is the latest welcome’s', () => {
    const { client, s, sockets, clock } = connected();
    expect(client.state.files).toEqual({ key: 'k-1', base: 'http://127.0.0.1:47800', maxFile: 1 << 20, uploads: 'everyone' });
    s.push({ type: 'limits', limits: { ...filesWelcome().limits, uploads: 'nobody' } });
    expect(client.files?.uploads).toBe('nobody');
    s.drop();
    clock.advance(5000);
    sockets.last.open();
    sockets.last.push(filesWelcome('k-2', 'hosts'), joined('lobby', [], 0));
    expect(client.files).toMatchObject({ key: 'k-2', uploads: 'hosts' });
  });

  it('sends at most ten files in a message, and its text within the limit', () => {
    const { client } = connected();
    const f = { name: 'a', size: 1, type: '' };
    expect(client.sendFiles('general', '', Array(11).fill(f)).error).toBe('too_many_files');
    expect(client.sendFiles('general', 'x'.repeat(51), [f]).error).toBe('text_too_long');
  });
});
