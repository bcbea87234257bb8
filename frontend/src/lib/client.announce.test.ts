import { describe, expect, it } from 'vitest';
import type { ClientEvent } from './client';
import { bob, joined, MemStorage, msg, welcome } from './testing/fakes';
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

  it('lists the unseen ones as new, not the newest: a co-host\'s, then ours', () => {
    const { client, sockets } = setup();
    const s = online(client, sockets);
    s.push(ann('c1', 'from the co-host'), { ...ann('o1', 'mine'), from: { id: 'm-me', name: 'Alice', role: 'host' } });
    expect(client.state.unseenAnnouncements).toBe(1);
    expect(client.state.newAnnouncements.map((a) => a.id)).toEqual(['c1']);
    client.seenAnnouncements();
    expect(client.state.newAnnouncements).toEqual([]);
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

describe('the announcements seen, remembered per host', () => {
  /** page opens a page of a host: a client that remembers in storage under the host's key, welcomed with the host's announcements */
  function page(storage: MemStorage, key: string, list: object[], me = { id: 'm-me', name: 'Alice' }) {
    const { client, sockets } = setup({ seenAnnouncements: { storage: storage as unknown as Storage, key } });
    const events: ClientEvent[] = [];
    client.on((e) => events.push(e));
    client.connect();
    const s = sockets.last;
    s.open();
    s.push({ ...welcome('sess-1', me), announcements: list }, joined('lobby', [], 0));
    const told = () => events.filter((e) => e.type === 'announcement').map((e) => e.type === 'announcement' && e.announcement.id);
    return { client, s, told };
  }

  it('keeps what was seen across a reload: no badge and no toast for it, while a newer one is unseen and told', () => {
    const storage = new MemStorage();
    const first = page(storage, 'lanchat.announcements.h1', [ann('a1', 'um'), ann('a2', 'dois')]);
    expect(first.client.state.unseenAnnouncements).toBe(2);
    first.client.seenAnnouncements();
    expect(JSON.parse(storage.getItem('lanchat.announcements.h1')!)).toEqual(['a1', 'a2']);

    // the reload: the welcome brings them all again
    const second = page(storage, 'lanchat.announcements.h1', [ann('a1', 'um'), ann('a2', 'dois')]);
    expect(second.client.state.announcements.map((a) => a.id)).toEqual(['a1', 'a2']);
    expect(second.client.state.unseenAnnouncements).toBe(0);
    expect(second.told()).toEqual([]);

    // a new one, live
    second.s.push(ann('a3', 'três'));
    expect(second.client.state.unseenAnnouncements).toBe(1);
    expect(second.told()).toEqual(['a3']);

    // a reload before it was dismissed: it is still unseen, and told again; the seen ones are not
    const third = page(storage, 'lanchat.announcements.h1', [ann('a1', 'um'), ann('a2', 'dois'), ann('a3', 'três')]);
    expect(third.client.state.unseenAnnouncements).toBe(1);
    expect(third.told()).toEqual(['a3']);
    third.client.seenAnnouncements();
    expect(JSON.parse(storage.getItem('lanchat.announcements.h1')!)).toEqual(['a1', 'a2', 'a3']);

    // one new in the welcome after a reload (it came while the page was away); the oldest is gone from the host
    const fourth = page(storage, 'lanchat.announcements.h1', [ann('a2', 'dois'), ann('a3', 'três'), ann('a4', 'quatro')]);
    expect(fourth.client.state.unseenAnnouncements).toBe(1);
    expect(fourth.told()).toEqual(['a4']);
    fourth.client.seenAnnouncements();
    // only the ones the host still holds are remembered
    expect(JSON.parse(storage.getItem('lanchat.announcements.h1')!)).toEqual(['a2', 'a3', 'a4']);
  });

  it('remembers each host apart', () => {
    const storage = new MemStorage();
    page(storage, 'lanchat.announcements.h1', [ann('a1', 'um')]).client.seenAnnouncements();
    // another host on the same device: its announcements are its own (even one with the same id)
    const other = page(storage, 'lanchat.announcements.h2', [ann('a1', 'outro um'), ann('b2', 'dois')]);
    expect(other.client.state.unseenAnnouncements).toBe(2);
    expect(other.told()).toEqual(['b2']);
    expect(page(storage, 'lanchat.announcements.h1', [ann('a1', 'um')]).client.state.unseenAnnouncements).toBe(0);
  });

  it('does not tell our own announcement again after a reload, even under another member id', () => {
    const storage = new MemStorage();
    const first = page(storage, 'k', []);
    first.s.push({ ...ann('o1', 'mine'), from: { id: 'm-me', name: 'Alice', role: 'host' } });
    expect(first.told()).toEqual(['o1']);
    const second = page(storage, 'k', [{ ...ann('o1', 'mine'), from: { id: 'm-me', name: 'Alice', role: 'host' } }], { id: 'm-me-2', name: 'Alice' });
    expect(second.client.state.unseenAnnouncements).toBe(0);
    expect(second.told()).toEqual([]);
  });

  it('a storage it cannot read or write leaves the announcements unseen, and remembers nothing', () => {
    const broken = new MemStorage();
    broken.setItem('k', '{not json');
    expect(page(broken, 'k', [ann('a1', 'um')]).client.state.unseenAnnouncements).toBe(1);
    broken.setItem('k', '{"a1":true}');
    expect(page(broken, 'k', [ann('a1', 'um')]).client.state.unseenAnnouncements).toBe(1);

    const refusing = new MemStorage();
    refusing.setItem = () => {
      throw new Error('QuotaExceededError');
    };
    const p = page(refusing, 'k', [ann('a1', 'um')]);
    p.client.seenAnnouncements();
    expect(p.client.state.unseenAnnouncements).toBe(0);
    expect(page(refusing, 'k', [ann('a1', 'um')]).client.state.unseenAnnouncements).toBe(1);
  });
});
