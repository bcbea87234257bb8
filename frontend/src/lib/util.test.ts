import { describe, expect, it } from 'vitest';
import { isLoopbackURL, linkify } from './links';
import { filesBase, linkFingerprint, normalizeAddr, peerHTTP, peerList, peerWS, relayFiles, relayWS, shortFingerprint } from './peers';
import { qrPath } from './qr';
import { startsGroup } from './format';
import type { Entry } from './client';

describe('isLoopbackURL', () => {
  it.each([
    ['http://127.0.0.1:47800/#fp=abc', true],
    ['http://127.4.5.6/', true],
    ['http://[::1]:47800/', true],
    ['http://localhost:47800/', true],
    ['http://LOCALHOST/', true],
    ['http://sala.localhost/', true],
    ['http://192.168.1.20:47800/#fp=abc', false],
    ['https://chat.school.test:47800/', false],
    ['http://127.0.0.1.example.org/', false],
    ['http://[::ffff:10.0.0.1]/', false],
    ['not a link', false],
  ])('%s → %s', (url, want) => {
    expect(isLoopbackURL(url)).toBe(want);
  });
});

describe('linkify', () => {
  it('finds http(s) links and leaves the rest as text', () => {
    expect(linkify('see https://example.org/a?b=1, ok')).toEqual([
      { text: 'see ' },
      { text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
      { text: ', ok' },
    ]);
    expect(linkify('(http://x.org/wiki/A_(b))')).toEqual([
      { text: '(' },
      { text: 'http://x.org/wiki/A_(b)', href: 'http://x.org/wiki/A_(b)' },
      { text: ')' },
    ]);
  });
  it('never makes links of other schemes, and keeps markup as text', () => {
    expect(linkify('javascript:alert(1) <img src=x onerror=alert(1)>')).toEqual([{ text: 'javascript:alert(1) <img src=x onerror=alert(1)>' }]);
    expect(linkify('http://a.b/<script>')[0]).toEqual({ text: 'http://a.b/', href: 'http://a.b/' });
  });
});

describe('peers', () => {
  it('makes URLs from whatever address a peer record has', () => {
    expect(peerHTTP({ id: 'a', name: 'A', url: 'http://10.0.0.5:47801/x' })).toBe('http://10.0.0.5:47801/');
    expect(peerHTTP({ id: 'a', name: 'A', urls: ['http://10.0.0.5:47800/'] })).toBe('http://10.0.0.5:47800/');
    expect(peerHTTP({ id: 'a', name: 'A', addr: '10.0.0.5', port: 47802 })).toBe('http://10.0.0.5:47802/');
    expect(peerHTTP({ id: 'a', name: 'A', address: '10.0.0.5:47803' })).toBe('http://10.0.0.5:47803/');
    expect(peerHTTP({ id: 'a', name: 'A', addrs: ['fe80::1'], port: 47800 })).toBe('http://[fe80::1]:47800/');
    expect(peerHTTP({ id: 'a', name: 'A' })).toBeUndefined();
    expect(peerWS({ id: 'a', name: 'A', addr: '10.0.0.5', port: 47800 })).toBe('ws://10.0.0.5:47800/ws');
  });
  it('accepts a list or {peers: [...]}', () => {
    expect(peerList({ peers: [{ id: 'x', name: 'X' }, { name: 'only name' }, 7, null] }).map((p) => p.id)).toEqual(['x', 'only name']);
    expect(peerList('nope')).toEqual([]);
  });
  it('normalizes typed addresses', () => {
    expect(normalizeAddr(' 192.168.0.10 ')).toBe('192.168.0.10:47800');
    expect(normalizeAddr('lab-pc:47801')).toBe('lab-pc:47801');
    expect(normalizeAddr('http://lab-pc:47802/room')).toBe('lab-pc:47802');
    expect(normalizeAddr('fe80::1')).toBe('[fe80::1]:47800');
    expect(normalizeAddr('[fe80::1]:5')).toBe('[fe80::1]:5');
    expect(normalizeAddr('two words')).toBeUndefined();
    expect(normalizeAddr('')).toBeUndefined();
  });
});

describe('qr', () => {
  it('draws a square code of the expected size', () => {
    const q = qrPath('http://192.168.0.10:47800/');
    expect(q.size).toBeGreaterThanOrEqual(21);
    expect((q.size - 17) % 4).toBe(0); // versions are 17 + 4n modules wide
    expect(q.path).toMatch(/^M\d+ \d+h\d+v1h-\d+z/);
  });
});

describe('grouping', () => {
  const m = (id: string, ts: number, own = false): Entry => ({
    kind: 'message',
    key: id + ts,
    room: 'r',
    epoch: 0,
    from: { id, name: id },
    text: 't',
    ts,
    own,
    state: 'sent',
  });
  it('groups close messages of one author', () => {
    const es = [m('a', 0), m('a', 60_000), m('b', 61_000), m('b', 10 * 60_000), { kind: 'notice', key: 'n', room: 'r', event: 'joined', ts: 1 } as Entry, m('b', 10 * 60_000 + 1)];
    expect(es.map((_, i) => startsGroup(es, i))).toEqual([true, false, true, true, false, true]);
  });
});

describe('host keys in links', () => {
  const fp = 'abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst';
  it('reads the key a join link carries', () => {
    expect(linkFingerprint(`http://10.0.0.2:47800/#fp=${fp}`)).toBe(fp);
    expect(linkFingerprint(`http://10.0.0.2:47800/#as=Ana&fp=ABCD-EFGH`)).toBe('abcdefgh');
    expect(linkFingerprint('http://10.0.0.2:47800/')).toBeUndefined();
    expect(linkFingerprint('10.0.0.2')).toBeUndefined();
  });
  it('shows the first sixteen characters in groups', () => {
    expect(shortFingerprint(fp)).toBe('ABCD-EFGH-IJKL-MNOP');
  });
  it('builds the relay URL on the own host', () => {
    expect(relayWS('ws://127.0.0.1:47801/ws', '[fd00::1]:47800', fp)).toBe(
      `ws://127.0.0.1:47801/relay?addr=%5Bfd00%3A%3A1%5D%3A47800&fp=${fp}`,
    );
  });
  it('builds the files relay on the own host, the address as one path element', () => {
    expect(relayFiles('ws://127.0.0.1:47801/ws', '10.0.0.5:47800', fp)).toBe(`http://127.0.0.1:47801/relay/files/${fp}/10.0.0.5%3A47800`);
    expect(relayFiles('ws://127.0.0.1:47801/ws', '[fd00::1]:47800', fp)).toBe(`http://127.0.0.1:47801/relay/files/${fp}/%5Bfd00%3A%3A1%5D%3A47800`);
  });
  it('finds the files base of the host a client is connected to', () => {
    expect(filesBase('ws://10.0.0.2:47800/ws')).toBe('http://10.0.0.2:47800');
    expect(filesBase('wss://lab.example:47800/ws')).toBe('https://lab.example:47800');
    expect(filesBase('ws://[fd00::2]:47800/ws')).toBe('http://[fd00::2]:47800');
    // a relayed host: the same addr and key as its WebSocket
    const ws = relayWS('ws://127.0.0.1:47801/ws', '10.0.0.5:47800', fp);
    expect(filesBase(ws)).toBe(relayFiles('ws://127.0.0.1:47801/ws', '10.0.0.5:47800', fp));
  });
});
