import { describe, expect, it } from 'vitest';
import type { ClientEvent } from './client';
import { bob, joined, msg, welcome } from './testing/fakes';
import { online, room, setup } from './testing/harness';

const host = { id: 'm-host', name: 'Prof. Ana', role: 'host' };
const ann = (id: string, text: string) => ({ type: 'announcement', id, from: host, text, ts: 1764067300000 });

describe('pinned messages', () => {
  it('takes the pin from joined and from pinned frames, and sends pin controls', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    const pin = msg('general', 3, 'prova na sexta', host);
    s.push({ ...joined('general', [], 3), pinned: pin });
    expect(room(client, 'general').pinned?.text).toBe('prova na sexta');
    s.push({ type: 'pinned', room: 'general', by: host });
    expect(room(client, 'general').pinned).toBeUndefined();
    s.push({ type: 'pinned', room: 'General', message: msg('general', 4, 'leiam o capítulo 2', bob), by: host });
    expect(room(client, 'general').pinned?.seq).toBe(4);
    // a joined without a pin (it was unpinned while we were away) clears it
    s.push(joined('general', [], 4));
    expect(room(client, 'general').pinned).toBeUndefined();

    client.pin('general', 4);
    client.pin('general');
    expect(s.of('control')).toEqual([
      { type: 'control', action: 'pin', room: 'general', seq: 4, flag: true },
      { type: 'control', action: 'pin', room: 'general' },
    ]);
  });
});

describe('announcements', () => {
  it('keeps the newest three, counts the unseen ones, and tells each new one once', () => {
    const { client, sockets } = setup();
    const events: ClientEvent[] = [];
    client.on((e) => events.push(e));
    client.connect();
    const s = sockets.last;
    s.open();
    // a later member: the welcome's announcements, one notification for them
    s.push({ ...welcome(), announcements: [ann('a1', 'um'), ann('a2', 'dois')] }, joined('lobby', [], 0));
    expect(client.state.announcements.map((a) => a.text)).toEqual(['um', 'dois']);
    expect(client.state.unseenAnnouncements).toBe(2);
    expect(events.filter((e) => e.type === 'announcement').map((e) => e.type === 'announcement' && e.announcement.id)).toEqual(['a2']);

    s.push(ann('a3', 'três'), ann('a3', 'três'), ann('a4', 'quatro'));
    expect(client.state.announcements.map((a) => a.id)).toEqual(['a2', 'a3', 'a4']);
    expect(client.state.unseenAnnouncements).toBe(3);
    client.seenAnnouncements();
    expect(client.state.unseenAnnouncements).toBe(0);

    // a reconnect's welcome repeats them: nothing new, nothing told
    const told = events.length;
    s.drop();
    client.reconnectNow();
    const s2 = sockets.last;
    expect(s2).not.toBe(s);
    s2.open();
    s2.push({ ...welcome(), announcements: [ann('a3', 'três'), ann('a4', 'quatro')] }, joined('lobby', [], 0));
    expect(client.state.status.kind).toBe('online');
    expect(client.state.announcements.map((a) => a.id)).toEqual(['a2', 'a3', 'a4']);
    expect(client.state.unseenAnnouncements).toBe(0);
    expect(events.slice(told).some((e) => e.type === 'announcement')).toBe(false);
  });

  it('does not count our own announcement as unseen, but keeps and tells it', () => {
    const { client, sockets } = setup();
    const events: ClientEvent[] = [];
    client.on((e) => events.push(e));
    const s = online(client, sockets);
    s.push({ ...ann('o1', 'mine'), from: { id: 'm-me', name: 'Alice', role: 'host' } });
    expect(client.state.announcements.map((a) => a.id)).toEqual(['o1']);
    expect(client.state.unseenAnnouncements).toBe(0);
    expect(events.some((e) => e.type === 'announcement')).toBe(true);
  });

  it('sends announce controls and refuses what cannot go', () => {
    const { client, sockets } = setup();
    expect(client.announce('oi')).toBe('offline');
    const s = online(client, sockets);
    expect(client.announce('   ')).toBe('empty_text');
    expect(client.announce('x'.repeat(5000))).toBe('text_too_long');
    expect(client.announce('Intervalo de 10 minutos')).toBeUndefined();
    expect(s.of('control')).toEqual([{ type: 'control', action: 'announce', text: 'Intervalo de 10 minutos' }]);
  });
});
