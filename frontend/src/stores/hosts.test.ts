import { get } from 'svelte/store';
import { describe, expect, it } from 'vitest';
import type { Bridge, Peer, SelfInfo } from '../bridge';
import { bob, joined, MemStorage, msg, Sockets, welcome } from '../lib/testing/fakes';
import { firstAnswer, Hosts } from './hosts';


const self: SelfInfo = {
  id: 'h-own',
  name: 'Own PC',
  port: 47800,
  ws_url: 'ws://127.0.0.1:47800/ws',
  join_urls: ['http://10.0.0.2:47800/'],
  version: 'test',
  host_token: 'secret-token',
};

function fakeBridge() {
  let peersCb: ((p: Peer[]) => void) | undefined;
  const notes: [string, string][] = [];
  const added: string[] = [];
  const b: Bridge = {
    kind: 'desktop',
    self: async () => self,
    settings: async () => ({ name: 'Alice', language: 'en' }),
    saveSettings: async () => {},
    peers: async () => [],
    addPeer: async (addr) => {
      added.push(addr);
      return { id: 'p-' + addr, name: addr };
    },
    diagnosis: async () => ({}),
    onPeers(cb) {
      peersCb = cb;
      return () => (peersCb = undefined);
    },
    notify: (title, body) => notes.push([title, body]),
    copy: async () => true,
    openURL: () => {},
    setTitle: () => {},
  };
  return { b, notes, added, emitPeers: (p: Peer[]) => peersCb?.(p) };
}

function setup(focused = true, joinCode?: string) {
  const sockets = new Sockets();
  const fb = fakeBridge();
  const storage = new MemStorage();
  let isFocused = focused;
  const hosts = new Hosts({
    bridge: fb.b,
    self,
    name: 'Alice',
    socket: sockets.factory,
    storage: storage as unknown as Storage,
    device: 'd-1',
    focused: () => isFocused,
    errorText: (code, ref) => `words for ${code}${ref ? ' ' + ref : ''}`,
    tr: (key, p) => `${key} ${JSON.stringify(p)}`,
    joinCode,
  });
  return { hosts, sockets, fb, storage, setFocused: (f: boolean) => (isFocused = f) };
}

describe('the first answer of the own host', () => {
  it.each(['name_taken', 'bad_name', 'join_code_required', 'join_code_wrong', 'join_code_throttled'])('is the refusal %s, for the first-run form', async (code) => {
    const { hosts, sockets } = setup(true, 'sala7');
    hosts.start();
    const answer = firstAnswer(hosts.session('own')!);
    sockets.last.open();
    expect(sockets.last.sent[0]).toMatchObject({ type: 'hello', name: 'Alice', join_code: 'sala7' });
    sockets.last.push({ type: 'error', code, message: 'no' });
    sockets.last.drop(1008);
    expect(await answer).toBe(code);
  });

  it('is nothing once the member is in', async () => {
    const { hosts, sockets } = setup();
    hosts.start();
    const answer = firstAnswer(hosts.session('own')!);
    sockets.last.open();
    expect(sockets.last.sent[0].join_code).toBeUndefined();
    sockets.last.push(welcome());
    expect(await answer).toBeUndefined();
  });

  it('is nothing when the host cannot be reached yet: the chat screen shows the reconnecting', async () => {
    const { hosts, sockets } = setup();
    hosts.start();
    const answer = firstAnswer(hosts.session('own')!);
    sockets.last.drop();
    expect(await answer).toBeUndefined();
  });

  it('is nothing for a refusal the chat screen explains (banned)', async () => {
    const { hosts, sockets } = setup();
    hosts.start();
    const answer = firstAnswer(hosts.session('own')!);
    sockets.last.open();
    sockets.last.push({ type: 'error', code: 'banned', message: 'no' });
    sockets.last.drop(1008);
    expect(await answer).toBeUndefined();
  });
});

describe('hosts', () => {
  it('connects to the own host with the host token, and lists peers without it', () => {
    const { hosts, sockets, fb } = setup();
    hosts.start();
    expect(sockets.last.url).toBe(self.ws_url);
    sockets.last.open();
    expect(sockets.last.sent[0]).toMatchObject({ type: 'hello', name: 'Alice', host_token: 'secret-token', device: 'd-1' });

    fb.emitPeers([
      { id: 'h-own', name: 'Own PC', self: true, addr: '10.0.0.2', port: 47800 },
      { id: 'h-lab', name: 'Lab', addr: '10.0.0.7', port: 47801, members: 4, join_code: true },
    ]);
    const entries = get(hosts.entries);
    expect(entries.map((e) => [e.key, e.name, e.ws, e.members, e.joinCode])).toEqual([
      ['own', 'Own PC', self.ws_url, undefined, undefined],
      ['peer:h-lab', 'Lab', 'ws://10.0.0.7:47801/ws', 4, true],
    ]);

    hosts.open('peer:h-lab');
    expect(get(hosts.selected)).toBe('peer:h-lab');
    const peerSock = sockets.last;
    expect(peerSock.url).toBe('ws://10.0.0.7:47801/ws');
    peerSock.open();
    // the host token never leaves for another host
    expect(peerSock.sent[0].host_token).toBeUndefined();
    expect(JSON.stringify(peerSock.sent)).not.toContain('secret-token');
    // opening again reuses the connection
    hosts.open('peer:h-lab');
    expect(sockets.all).toHaveLength(2);
    // the joined host is remembered (once), the own host never
    expect(fb.added).toEqual(['http://10.0.0.7:47801/']);
  });

  it('reaches a host whose key it knows through its own relay, and never joins one whose key changed', () => {
    const { hosts, sockets, fb } = setup();
    hosts.start();
    const fp = 'abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst';
    fb.emitPeers([
      { id: 'h-t', name: 'Teacher', addr: '10.0.0.7:47800', fingerprint: fp, trust: 'pinned' },
      { id: 'h-x', name: 'Teacher', addr: '10.0.0.9:47800', fingerprint: fp.replace('a', 'z'), trust: 'changed' },
      { id: 'h-o', name: 'Old', addr: '10.0.0.8:47800' },
    ]);
    const byKey = new Map(get(hosts.entries).map((e) => [e.key, e]));
    const teacher = byKey.get('peer:h-t')!;
    expect(teacher.secure).toBe(true);
    const u = new URL(teacher.ws!);
    expect([u.protocol, u.host, u.pathname, u.searchParams.get('addr'), u.searchParams.get('fp')]).toEqual([
      'ws:',
      '127.0.0.1:47800',
      '/relay',
      '10.0.0.7:47800',
      fp,
    ]);
    expect(byKey.get('peer:h-o')).toMatchObject({ secure: false, ws: 'ws://10.0.0.8:47800/ws' });
    expect(byKey.get('peer:h-x')).toMatchObject({ trust: 'changed', ws: undefined });

    const before = sockets.all.length;
    expect(hosts.open('peer:h-x')).toBeUndefined();
    expect(sockets.all).toHaveLength(before);
    expect(get(hosts.toasts).map((t) => t.text)).toEqual(['trust.changedToast {"host":"Teacher"}']);
    hosts.open('peer:h-t');
    expect(sockets.last.url).toBe(teacher.ws);
  });

  it('turns errors into words, leaving out those the status bar explains', () => {
    const { hosts, sockets } = setup();
    hosts.start();
    const s = sockets.last;
    s.open();
    s.push(welcome(), joined('lobby', [], 0));
    s.push({ type: 'error', code: 'no_such_room', message: 'raw', ref: 'sala9' });
    s.push({ type: 'error', code: 'name_taken', message: 'raw' });
    expect(get(hosts.toasts).map((t) => t.text)).toEqual(['words for no_such_room sala9']);
  });

  it('notifies mentions only while the window is not focused', () => {
    const { hosts, sockets, fb, setFocused } = setup(true);
    hosts.start();
    const s = sockets.last;
    s.open();
    s.push(welcome(), joined('lobby', [], 0));
    s.push(msg('lobby', 1, 'hey Alice, look'));
    expect(fb.notes).toEqual([]);
    setFocused(false);
    s.push(msg('lobby', 2, 'no mention here'), msg('lobby', 3, '@alice again'));
    expect(fb.notes).toHaveLength(1);
    expect(fb.notes[0][0]).toContain('notify.mention');
    expect(fb.notes[0][0]).toContain(bob.name);
    expect(fb.notes[0][1]).toBe('@alice again');
    // a private conversation notifies without a mention
    hosts.session('own')!.client.dm(bob.id);
    s.push(joined('@Alice+Bob', [], 0), msg('@Alice+Bob', 1, 'psst'));
    expect(fb.notes).toHaveLength(2);
    expect(fb.notes[1][0]).toContain('notify.dm');
  });

  it('remembers the rooms one is in and rejoins them on the next start', async () => {
    const first = setup();
    first.hosts.start();
    const s = first.sockets.last;
    s.open();
    s.push(welcome(), joined('lobby', [], 0));
    first.hosts.session('own')!.client.join('general');
    s.push(joined('general', [], 0));
    await Promise.resolve();
    expect(JSON.parse(first.storage.getItem('lanchat.rooms.h-own')!)).toEqual(['general']);

    const second = setup();
    second.storage.m = first.storage.m;
    second.hosts.start();
    const s2 = second.sockets.last;
    s2.open();
    s2.push(welcome('other'), joined('lobby', [], 0));
    expect(s2.of('join')).toEqual([{ type: 'join', room: 'general' }]);
  });

  it('opens the room one was looking at on the next start, or the lobby when one has left it', async () => {
    const first = setup();
    first.hosts.start();
    const s = first.sockets.last;
    s.open();
    s.push(welcome(), joined('lobby', [], 0));
    const client = first.hosts.session('own')!.client;
    client.join('general');
    s.push(joined('general', [], 0));
    client.setActive('general');
    await Promise.resolve();
    expect(first.storage.getItem('lanchat.active.h-own')).toBe('general');

    const second = setup();
    second.storage.m = new Map(first.storage.m);
    second.hosts.start();
    expect(second.hosts.session('own')!.client.state.active).toBe('general');

    // a room no longer among those one is in is not opened again
    second.storage.m.set('lanchat.rooms.h-own', '[]');
    const third = setup();
    third.storage.m = second.storage.m;
    third.hosts.start();
    expect(third.hosts.session('own')!.client.state.active).toBe('lobby');
  });

  it('remembers the announcements seen per host: a reload raises no badge or toast for them, another host keeps its own', () => {
    const ann = (id: string) => ({ type: 'announcement', id, from: bob, text: 'intervalo ' + id, ts: 1764067300000 });
    const toasted = (h: Hosts) => get(h.toasts).filter((t) => t.text.startsWith('toast.announcement')).length;
    const first = setup();
    first.hosts.start();
    first.sockets.last.open();
    first.sockets.last.push({ ...welcome(), announcements: [ann('a1')] }, joined('lobby', [], 0));
    const own = first.hosts.session('own')!.client;
    expect(own.state.unseenAnnouncements).toBe(1);
    expect(toasted(first.hosts)).toBe(1);
    own.seenAnnouncements();
    expect(JSON.parse(first.storage.getItem('lanchat.announcements.h-own')!)).toEqual(['a1']);

    // the page again, on the same device
    const second = setup();
    second.storage.m = first.storage.m;
    second.hosts.start();
    second.sockets.last.open();
    second.sockets.last.push({ ...welcome('other'), announcements: [ann('a1')] }, joined('lobby', [], 0));
    expect(second.hosts.session('own')!.client.state.unseenAnnouncements).toBe(0);
    expect(toasted(second.hosts)).toBe(0);
    // a peer is another host: what was seen on the own host counts nothing there
    second.fb.emitPeers([{ id: 'h-lab', name: 'Lab', addr: '10.0.0.7', port: 47801 }]);
    second.hosts.open('peer:h-lab');
    second.sockets.last.open();
    second.sockets.last.push({ ...welcome('lab', { id: 'm-me', name: 'Alice' }, 'h-lab'), announcements: [ann('a1')] }, joined('lobby', [], 0));
    expect(second.hosts.session('peer:h-lab')!.client.state.unseenAnnouncements).toBe(1);
    expect(toasted(second.hosts)).toBe(1);
    second.hosts.session('peer:h-lab')!.client.seenAnnouncements();
    expect(JSON.parse(second.storage.getItem('lanchat.announcements.peer:h-lab')!)).toEqual(['a1']);
  });

  it('names the own host as the host says it is: its welcome, then a rename while it runs', async () => {
    const settled = () => new Promise((r) => setTimeout(r, 0));
    const { hosts, sockets } = setup();
    const titles: string[] = [];
    const stop = hosts.title.subscribe((t) => titles.push(t));
    expect(get(hosts.entries)[0].name).toBe('Own PC'); // the desktop app's word, before the host answers
    hosts.start();
    const s = sockets.last;
    s.open();
    s.push(welcome(), joined('lobby', [], 0));
    await settled();
    expect(get(hosts.entries)[0].name).toBe('lab');
    s.push({ type: 'host', host: { id: 'h1', name: 'Sala da Prof. Ana' } });
    await settled();
    expect(get(hosts.entries)[0].name).toBe('Sala da Prof. Ana');
    expect(titles.at(-1)).toBe('Sala da Prof. Ana — lanchat');
    stop();
  });

  it('counts what arrives in the open room while the window is in the background, and reads it on coming back', async () => {
    const settled = () => new Promise((r) => setTimeout(r, 0));
    const { hosts, sockets } = setup();
    const titles: string[] = [];
    const stop = hosts.title.subscribe((t) => titles.push(t));
    hosts.start();
    const s = sockets.last;
    s.open();
    s.push(welcome(), joined('lobby', [], 0));
    hosts.session('own')!.client.setActive('lobby');
    s.push(msg('lobby', 1, 'while looking'));
    await settled();
    expect(get(hosts.unread)).toBe(0);
    hosts.windowFocus(false);
    s.push(msg('lobby', 2, 'while away'), msg('lobby', 3, 'still away'));
    await settled();
    expect(get(hosts.unread)).toBe(2);
    expect(titles.at(-1)).toBe('(2) lab — lanchat');
    hosts.windowFocus(true);
    await settled();
    expect(get(hosts.unread)).toBe(0);
    expect(titles.at(-1)).toBe('lab — lanchat');
    stop();
  });

  it('counts unread messages on every host in the title, and toasts a private message that is not on screen', async () => {
    const settled = () => new Promise((r) => setTimeout(r, 0));
    const { hosts, sockets, fb } = setup();
    const titles: string[] = [];
    const stop = hosts.title.subscribe((t) => titles.push(t));
    hosts.start();
    const s = sockets.last;
    s.open();
    s.push(welcome(), joined('lobby', [], 0), joined('general', [], 0));
    await settled();
    expect(titles.at(-1)).toBe('lab — lanchat');
    const own = hosts.session('own')!.client;
    own.setActive('lobby');
    s.push(msg('general', 1, 'in another room'));
    await settled();
    expect(get(hosts.unread)).toBe(1);
    expect(titles.at(-1)).toBe('(1) lab — lanchat');
    expect(get(hosts.toasts)).toEqual([]);

    // a private message while looking at the lobby: a toast, and one more unread
    s.push(joined('@Alice+Bob', [], 0), msg('@Alice+Bob', 1, 'psst'));
    expect(get(hosts.toasts).map((t) => [t.text, t.kind])).toEqual([['toast.dm {"name":"Bob","host":"Own PC"}', 'info']]);
    await settled();
    expect(titles.at(-1)).toBe('(2) lab — lanchat');
    // looking at the conversation: read, and the next one is no toast
    own.setActive('@Alice+Bob');
    own.setActive('general');
    await settled();
    expect(titles.at(-1)).toBe('lab — lanchat');
    own.setActive('@Alice+Bob');
    s.push(msg('@Alice+Bob', 2, 'still here?'));
    expect(get(hosts.toasts)).toHaveLength(1);

    // another host's messages count too, and its private message names it
    fb.emitPeers([{ id: 'h-lab', name: 'Lab', addr: '10.0.0.7', port: 47801 }]);
    hosts.open('peer:h-lab');
    const lab = sockets.last;
    lab.open();
    lab.push(welcome('s-lab'), joined('lobby', [], 0));
    await settled();
    expect(titles.at(-1)).toBe('Lab — lanchat');
    s.push(msg('@Alice+Bob', 3, 'hello?'));
    await settled();
    expect(titles.at(-1)).toBe('(1) Lab — lanchat');
    expect(get(hosts.toasts).at(-1)?.text).toBe('toast.dmHost {"name":"Bob","host":"Own PC"}');
    stop();
  });

  it('renames on every host after a name clash', () => {
    const { hosts, sockets } = setup();
    hosts.start();
    const s = sockets.last;
    s.open();
    s.push({ type: 'error', code: 'name_taken', message: 'taken' });
    s.drop(1008);
    hosts.rename('Alice B');
    expect(get(hosts.name)).toBe('Alice B');
    sockets.last.open();
    expect(sockets.last.sent[0].name).toBe('Alice B');
  });
});
