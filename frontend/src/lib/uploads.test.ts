import { describe, expect, it } from 'vitest';
import { dictionaries, LOCALES } from '../i18n';
import { FILE_ERROR_CODES, fileURL, isInlineImage, type Attachment } from './protocol';
import { ManualClock, MemStorage, joined, welcome } from './testing/fakes';
import { messages, online, setup } from './testing/harness';
import {
  checkFiles,
  KEY_HEADER,
  shouldRetry,
  UPLOAD_ERRORS,
  uploadBlock,
  uploadError,
  uploadId,
  Uploads,
  type PreviousUpload,
  type TusError,
  type TusOptions,
  type TusRequest,
  type TusResponse,
  type TusUpload,
} from './uploads';
import type { FilesInfo } from './types';

const BASE = 'http://127.0.0.1:47800';
const ENDPOINT = BASE + '/files/uploads/';
const KEY = 'k-1';

/** filesWelcome is a welcome from a host that takes files. */
function filesWelcome(session = 'sess-1', key = KEY, uploads = 'everyone', member: { id: string; name: string; role?: string } = { id: 'm-me', name: 'Alice' }) {
  const w = welcome(session, member);
  return { ...w, files_key: key, limits: { ...w.limits, max_file: 1000, uploads } };
}

function res(status: number, body = '', headers: Record<string, string> = {}): TusResponse {
  return { getStatus: () => status, getBody: () => body, getHeader: (n) => headers[n] };
}

function req(method: string): TusRequest & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  return { headers, getMethod: () => method, getURL: () => ENDPOINT, setHeader: (k, v) => void (headers[k] = v) };
}

function tusErr(r: TusResponse | null): TusError {
  return Object.assign(new Error('tus'), { originalRequest: req('PATCH'), originalResponse: r });
}

const refusal = (code: string) => JSON.stringify({ type: 'error', code, message: code });

class FakeTus implements TusUpload {
  url: string | null = null;
  starts = 0;
  aborted?: { terminate: boolean };
  previous: PreviousUpload[] = [];
  resumedFrom?: PreviousUpload;
  constructor(
    readonly file: File,
    readonly opts: TusOptions,
  ) {}
  start() {
    this.starts++;
  }
  abort(terminate = false) {
    this.aborted = { terminate };
    return Promise.resolve();
  }
  findPreviousUploads() {
    return Promise.resolve(this.previous);
  }
  resumeFromPreviousUpload(p: PreviousUpload) {
    this.resumedFrom = p;
    this.url = p.uploadUrl;
  }
  // ---- driven by the test ----
  created(id: string) {
    this.url = this.opts.endpoint + id;
    this.opts.onUploadUrlAvailable();
  }
  chunk(accepted: number) {
    this.opts.onProgress(accepted, this.file.size);
    this.opts.onChunkComplete(accepted, accepted, this.file.size);
  }
  succeed(id: string) {
    if (!this.url) this.created(id);
    this.opts.onSuccess();
  }
  /** request runs the hook every request runs first and returns the headers it set */
  async request(method = 'PATCH') {
    const r = req(method);
    await this.opts.onBeforeRequest(r);
    return r.headers;
  }
}

const flush = () => new Promise((r) => setTimeout(r, 0));

function file(name: string, size: number, type = 'application/pdf', lastModified = 1700000000000): File {
  return new File([new Uint8Array(size)], name, { type, lastModified });
}

function world(opts: { storage?: MemStorage; previous?: PreviousUpload[]; session?: string; key?: string } = {}) {
  const { client, sockets, clock } = setup({ rooms: ['general'] });
  client.connect();
  const s = sockets.last;
  s.open();
  s.push(filesWelcome(opts.session, opts.key), joined('lobby', [], 0), joined('general', [], 0));
  const tuses: FakeTus[] = [];
  const storage = opts.storage ?? new MemStorage();
  const fetched: { url: string; init: RequestInit }[] = [];
  const uploads = new Uploads({
    client,
    clock,
    storage: storage as unknown as Storage,
    storageKey: 'lanchat.uploads.h1',
    tus: (f, o) => {
      const t = new FakeTus(f, o);
      t.previous = opts.previous ?? [];
      tuses.push(t);
      return t;
    },
    fetch: (async (url: string, init: RequestInit) => {
      fetched.push({ url, init });
      return new Response(null, { status: 204 });
    }) as unknown as typeof fetch,
  });
  return { client, sockets, clock, s, uploads, tuses, storage, fetched };
}

describe('who may send files', () => {
  const info = (uploads: FilesInfo['uploads']): FilesInfo => ({ key: KEY, base: BASE, maxFile: 100, uploads });
  it('follows the host setting; hosts and co-hosts send when it says hosts, nobody when nobody', () => {
    const guest = { id: 'm-1', name: 'Ana' };
    expect(uploadBlock(undefined, guest)).toBe('none');
    expect(uploadBlock(info('everyone'), guest)).toBeUndefined();
    expect(uploadBlock(info('hosts'), guest)).toBe('hosts');
    expect(uploadBlock(info('hosts'), { ...guest, role: 'cohost' })).toBeUndefined();
    expect(uploadBlock(info('hosts'), { ...guest, role: 'host' })).toBeUndefined();
    expect(uploadBlock(info('nobody'), { ...guest, role: 'host' })).toBe('nobody');
    expect(uploadBlock(info('everyone'), { ...guest, muted: true })).toBe('muted');
  });
  it('refuses too many, empty and too large files before any byte goes', () => {
    expect(checkFiles([{ name: 'a', size: 10 }], 100)).toBeUndefined();
    expect(checkFiles([{ name: 'a', size: 0 }], 100)).toEqual({ code: 'empty_file', name: 'a' });
    expect(checkFiles([{ name: 'big', size: 101 }], 100)).toEqual({ code: 'file_too_large', name: 'big' });
    expect(checkFiles(Array.from({ length: 11 }, (_, i) => ({ name: String(i), size: 1 })), 100)).toEqual({ code: 'too_many_files' });
  });
});

describe('upload errors', () => {
  it('reads the code of the host’s refusal, or names it by its status', () => {
    expect(uploadError(tusErr(res(413, refusal('file_too_large'))))).toBe('file_too_large');
    expect(uploadError(tusErr(res(507, refusal('files_full'))))).toBe('files_full');
    expect(uploadError(tusErr(res(403, refusal('uploads_off'))))).toBe('uploads_off');
    expect(uploadError(tusErr(res(403, refusal('muted'))))).toBe('muted');
    expect(uploadError(tusErr(res(403, 'nope')))).toBe('forbidden');
    expect(uploadError(tusErr(res(404, '')))).toBe('no_such_file');
    expect(uploadError(tusErr(res(413, '')))).toBe('file_too_large');
    expect(uploadError(tusErr(res(502, 'bad gateway')))).toBe('internal');
    expect(uploadError(tusErr(null))).toBe('network');
    expect(uploadError(new Error('the file changed'))).toBe('unreadable');
  });
  it('tries again after network errors, passing troubles and a stale key, not after a refusal that stays', () => {
    expect(shouldRetry(tusErr(null))).toBe(true);
    expect(shouldRetry(tusErr(res(503)))).toBe(true);
    expect(shouldRetry(tusErr(res(423)))).toBe(true);
    expect(shouldRetry(tusErr(res(403, refusal('forbidden'))))).toBe(true);
    expect(shouldRetry(tusErr(res(403, refusal('uploads_off'))))).toBe(false);
    expect(shouldRetry(tusErr(res(403, refusal('muted'))))).toBe(false);
    expect(shouldRetry(tusErr(res(413, refusal('file_too_large'))))).toBe(false);
    expect(shouldRetry(tusErr(res(507, refusal('files_full'))))).toBe(false);
  });
  it('has words for every code, in every language', () => {
    for (const l of LOCALES) {
      for (const c of UPLOAD_ERRORS) expect(dictionaries[l]['files.error.' + c], `${l}: files.error.${c}`).toBeTruthy();
      for (const c of FILE_ERROR_CODES) expect(dictionaries[l]['error.' + c], `${l}: error.${c}`).toBeTruthy();
      expect(dictionaries[l]['error.too_many_files'], `${l}: error.too_many_files`).toBeTruthy();
    }
  });
  it('takes an upload’s id from its URL', () => {
    expect(uploadId(ENDPOINT + '0f5a2c7e91b34d68')).toBe('0f5a2c7e91b34d68');
    expect(uploadId('http://127.0.0.1:47801/relay/files/fp/10.0.0.5%3A47800/files/uploads/abc')).toBe('abc');
  });
});

describe('files of messages', () => {
  it('builds download and thumbnail URLs with the room, the seq and the key', () => {
    expect(fileURL(BASE, 'ab12', 'general', 7, KEY)).toBe(`${BASE}/files/ab12?room=general&seq=7&key=k-1`);
    expect(fileURL(BASE + '/', 'ab12', '@m-1 m-2', 7, KEY, true)).toBe(`${BASE}/files/ab12?room=%40m-1+m-2&seq=7&key=k-1&download=1`);
    expect(isInlineImage('image/png')).toBe(true);
    expect(isInlineImage('image/svg+xml')).toBe(false);
    expect(isInlineImage('text/html')).toBe(false);
  });

  it('a host that takes files says how; one that takes none does not, and limits frames change who may', () => {
    const { client, sockets } = setup();
    online(client, sockets);
    expect(client.state.files).toBeUndefined();
    const w = world();
    expect(w.client.state.files).toEqual({ key: KEY, base: BASE, maxFile: 1000, uploads: 'everyone' });
    w.s.push({ type: 'limits', limits: { ...filesWelcome().limits, uploads: 'hosts' } });
    expect(w.client.files?.uploads).toBe('hosts');
  });
});

describe('uploading', () => {
  it('shows the message pending with its files, uploads them one at a time with the current key, then sends it with their ids', async () => {
    const w = world();
    const r = w.uploads.send('general', 'the handout', [file('a.pdf', 10), file('b.png', 20, 'image/png')]);
    expect(r.clientId).toBeTruthy();
    const id = r.clientId!;
    const [m] = messages(w.client, 'general');
    expect(m).toMatchObject({ state: 'pending', text: 'the handout', files: [{ name: 'a.pdf', size: 10 }, { name: 'b.png', size: 20, type: 'image/png' }] });
    expect(w.uploads.state.jobs[id].files.map((f) => f.state)).toEqual(['uploading', 'queued']);
    await flush();
    expect(w.tuses).toHaveLength(1);
    const [a] = w.tuses;
    expect(a.starts).toBe(1);
    expect(a.opts.endpoint).toBe(ENDPOINT);
    expect(a.opts.metadata).toEqual({ filename: 'a.pdf', filetype: 'application/pdf' });
    expect(await a.request('POST')).toEqual({ [KEY_HEADER]: KEY });
    a.created('up-a');
    a.chunk(5);
    w.clock.advance(100);
    expect(w.uploads.state.jobs[id].files[0]).toMatchObject({ sent: 5, state: 'uploading' });
    expect(w.s.of('send')).toEqual([]);
    a.succeed('up-a');
    await flush();
    const b = w.tuses[1];
    expect(b.file.name).toBe('b.png');
    b.succeed('up-b');
    expect(w.s.of('send')).toEqual([{ type: 'send', room: 'general', client_id: id, text: 'the handout', attachments: ['up-a', 'up-b'] }]);
    expect(w.uploads.state.jobs[id].state).toBe('sending');
    expect(w.storage.getItem('lanchat.uploads.h1')).toBeNull();
    // the ack: the message is the host's now
    w.s.push({ type: 'ack', client_id: id, room: 'general', seq: 1, id: 'msg-1', ts: 5 });
    expect(w.uploads.state.jobs[id]).toBeUndefined();
    expect(messages(w.client, 'general')[0]).toMatchObject({ state: 'sent', seq: 1, files: [{ name: 'a.pdf' }, { name: 'b.png' }] });
    // and its echo says what the host stored
    const atts: Attachment[] = [
      { id: 'f'.repeat(64), name: 'a.pdf', size: 10, type: 'application/octet-stream' },
      { id: 'e'.repeat(64), name: 'b.png', size: 20, type: 'image/png', width: 4, height: 3, thumb: 'd'.repeat(64) },
    ];
    w.s.push({ type: 'message', room: 'general', seq: 1, id: 'msg-1', from: { id: 'm-me', name: 'Alice' }, text: 'the handout', ts: 5, client_id: id, attachments: atts });
    const after = messages(w.client, 'general');
    expect(after).toHaveLength(1);
    expect(after[0].attachments).toEqual(atts);
    expect(after[0].files).toBeUndefined();
    // deleted: the files go with the text
    w.s.push({ type: 'deleted', room: 'general', seq: 1, id: 'msg-1', by: { id: 'm-me', name: 'Alice' } });
    expect(messages(w.client, 'general')[0]).toMatchObject({ deleted: true, attachments: undefined });
  });

  it('sends a message with files and no text', async () => {
    const w = world();
    const id = w.uploads.send('general', '   ', [file('a.pdf', 10)]).clientId!;
    await flush();
    w.tuses[0].succeed('up-a');
    expect(w.s.of('send')).toEqual([{ type: 'send', room: 'general', client_id: id, text: '', attachments: ['up-a'] }]);
  });

  it('refuses what the host would refuse, before anything shows', () => {
    const w = world();
    expect(w.uploads.send('general', '', [file('big.iso', 1001)])).toEqual({ error: 'file_too_large', name: 'big.iso' });
    expect(w.uploads.send('general', '', [file('empty.txt', 0)])).toEqual({ error: 'empty_file', name: 'empty.txt' });
    w.s.push({ type: 'limits', limits: { ...filesWelcome().limits, uploads: 'hosts' } });
    expect(w.uploads.send('general', '', [file('a.pdf', 10)])).toEqual({ error: 'uploads_off' });
    expect(messages(w.client, 'general')).toEqual([]);
    expect(w.tuses).toEqual([]);
  });

  it('a request waits while the client is offline and goes out with the new session’s key', async () => {
    const w = world();
    w.uploads.send('general', '', [file('a.pdf', 10)]);
    await flush();
    const a = w.tuses[0];
    w.s.drop();
    let headers: Record<string, string> | undefined;
    void a.request('HEAD').then((h) => (headers = h));
    await flush();
    expect(headers).toBeUndefined();
    expect(Object.values(w.uploads.state.jobs)[0].waiting).toBe(true);
    w.clock.advance(5000);
    const s2 = w.sockets.last;
    s2.open();
    s2.push(filesWelcome('sess-2', 'k-2'), joined('lobby', [], 0), joined('general', [], 0));
    await flush();
    expect(headers).toEqual({ [KEY_HEADER]: 'k-2' });
    expect(Object.values(w.uploads.state.jobs)[0].waiting).toBe(false);
  });

  it('a HEAD refused for a stale key is tried again, not taken for a lost upload', async () => {
    const w = world();
    w.uploads.send('general', '', [file('a.pdf', 10)]);
    await flush();
    const { opts } = w.tuses[0];
    expect(() => opts.onAfterResponse(req('HEAD'), res(403, refusal('forbidden')))).toThrow();
    expect(() => opts.onAfterResponse(req('HEAD'), res(404, refusal('no_such_file')))).not.toThrow();
    expect(() => opts.onAfterResponse(req('PATCH'), res(403, refusal('forbidden')))).not.toThrow();
    expect(opts.onShouldRetry(tusErr(res(403, refusal('forbidden'))), 0)).toBe(true);
  });

  it('a failed upload fails the message with the reason; retry goes on from where the host has it', async () => {
    const previous: PreviousUpload[] = [];
    const w = world({ previous });
    const id = w.uploads.send('general', 'x', [file('a.pdf', 10)]).clientId!;
    await flush();
    const a = w.tuses[0];
    a.created('up-a');
    a.chunk(4);
    a.opts.onError(tusErr(res(507, refusal('files_full'))));
    expect(w.uploads.state.jobs[id]).toMatchObject({ state: 'failed', error: 'files_full' });
    expect(messages(w.client, 'general')[0]).toMatchObject({ state: 'failed', error: 'files_full' });
    // the outbox's own retry does not send it without its files
    w.client.retry(id);
    expect(w.s.of('send')).toEqual([]);
    // tus remembers the upload's URL: the new try resumes it
    w.tuses.length = 0;
    const prev = { uploadUrl: ENDPOINT + 'up-a', creationTime: new Date(0).toString(), urlStorageKey: 'tus::a' };
    previous.push(prev);
    w.uploads.retry(id);
    expect(w.uploads.state.jobs[id].state).toBe('uploading');
    expect(messages(w.client, 'general')[0].state).toBe('pending');
    const b = w.tuses[0];
    await flush();
    expect(b.resumedFrom).toEqual(prev);
    expect(b.starts).toBe(1);
    b.succeed('up-a');
    expect(w.s.of('send')).toEqual([{ type: 'send', room: 'general', client_id: id, text: 'x', attachments: ['up-a'] }]);
  });

  it('a message refused because its uploads are gone uploads them anew on retry, under the same client_id', async () => {
    const w = world();
    const id = w.uploads.send('general', 'x', [file('a.pdf', 10)]).clientId!;
    await flush();
    w.tuses[0].succeed('up-a');
    w.s.push({ type: 'error', code: 'no_such_file', message: '', ref: id });
    expect(messages(w.client, 'general')[0]).toMatchObject({ state: 'failed', error: 'no_such_file' });
    w.uploads.retry(id, 'no_such_file');
    expect(messages(w.client, 'general')[0].state).toBe('pending');
    expect(w.s.of('send')).toHaveLength(1);
    await flush();
    expect(w.tuses).toHaveLength(2);
    w.tuses[1].succeed('up-a2');
    expect(w.s.of('send')[1]).toEqual({ type: 'send', room: 'general', client_id: id, text: 'x', attachments: ['up-a2'] });
  });

  it('a message refused for another reason is sent again as it was', async () => {
    const w = world();
    const id = w.uploads.send('general', 'x', [file('a.pdf', 10)]).clientId!;
    await flush();
    w.tuses[0].succeed('up-a');
    w.s.push({ type: 'error', code: 'rate_limited', message: '', ref: id });
    w.uploads.retry(id, 'rate_limited');
    expect(w.s.of('send')).toHaveLength(2);
    expect(w.s.of('send')[1].attachments).toEqual(['up-a']);
    expect(w.tuses).toHaveLength(1);
  });

  it('what failed for the connection goes on by itself when the client is back', async () => {
    const w = world();
    const id = w.uploads.send('general', '', [file('a.pdf', 10)]).clientId!;
    await flush();
    w.tuses[0].opts.onError(tusErr(null));
    expect(w.uploads.state.jobs[id].error).toBe('network');
    w.s.drop();
    w.clock.advance(5000);
    w.sockets.last.open();
    w.sockets.last.push(filesWelcome('sess-1'), joined('lobby', [], 0), joined('general', [], 0));
    await flush();
    expect(w.uploads.state.jobs[id].state).toBe('uploading');
    expect(w.tuses).toHaveLength(2);
  });

  it('cancel stops the upload, deletes it on the host and takes the message away', async () => {
    const w = world();
    const id = w.uploads.send('general', '', [file('a.pdf', 10)]).clientId!;
    await flush();
    w.tuses[0].created('up-a');
    w.uploads.cancel(id);
    expect(w.tuses[0].aborted).toEqual({ terminate: true });
    expect(messages(w.client, 'general')).toEqual([]);
    expect(w.uploads.state.jobs).toEqual({});
    expect(w.storage.getItem('lanchat.uploads.h1')).toBeNull();
    // what tus reports after the abort changes nothing
    w.tuses[0].succeed('up-a');
    expect(w.s.of('send')).toEqual([]);
  });

  it('coalesces progress: one change per tenth of a second', async () => {
    const w = world();
    const id = w.uploads.send('general', '', [file('a.pdf', 1000)]).clientId!;
    await flush();
    let n = 0;
    w.uploads.subscribe(() => n++);
    n = 0;
    for (let i = 1; i <= 20; i++) w.tuses[0].opts.onProgress(i * 10, 1000);
    expect(n).toBe(0);
    w.clock.advance(100);
    expect(n).toBe(1);
    expect(w.uploads.state.jobs[id].files[0].sent).toBe(200);
  });
});

describe('after a reload', () => {
  async function interrupted() {
    const storage = new MemStorage();
    const w = world({ storage });
    const f = file('video.mp4', 800, 'video/mp4');
    const id = w.uploads.send('general', 'the lab', [f]).clientId!;
    await flush();
    w.tuses[0].created('up-v');
    w.tuses[0].chunk(300);
    return { storage, id, f };
  }

  it('offers the unfinished message again, and the same file picked again resumes it', async () => {
    const { storage, id, f } = await interrupted();
    const prev = { uploadUrl: ENDPOINT + 'up-v', creationTime: new Date().toString(), urlStorageKey: 'tus::x' };
    const w = world({ storage, previous: [prev], session: 'sess-2', key: 'k-2' });
    expect(w.uploads.state.unfinished).toEqual([
      { id, room: 'general', text: 'the lab', at: expect.any(Number), files: [{ name: 'video.mp4', size: 800, type: 'video/mp4', lastModified: f.lastModified, sent: 300, url: ENDPOINT + 'up-v' }] },
    ]);
    // another file is not it
    expect(w.uploads.resume(id, [file('video.mp4', 801, 'video/mp4')]).error).toBe('no_such_file');
    const r = w.uploads.resume(id, [f]);
    expect(r.clientId).toBeTruthy();
    expect(w.uploads.state.unfinished).toEqual([]);
    expect(messages(w.client, 'general')[0]).toMatchObject({ state: 'pending', text: 'the lab', files: [{ name: 'video.mp4' }] });
    expect(w.uploads.state.jobs[r.clientId!].files[0].sent).toBe(300);
    await flush();
    expect(w.tuses[0].resumedFrom).toEqual(prev);
    expect(await w.tuses[0].request('HEAD')).toEqual({ [KEY_HEADER]: 'k-2' });
    w.tuses[0].succeed('up-v');
    expect(w.s.of('send')).toEqual([{ type: 'send', room: 'general', client_id: r.clientId, text: 'the lab', attachments: ['up-v'] }]);
    expect(storage.getItem('lanchat.uploads.h1')).toBeNull();
  });

  it('the same file attached by hand takes over from the remembered message', async () => {
    const { storage, f } = await interrupted();
    const w = world({ storage });
    expect(w.uploads.state.unfinished).toHaveLength(1);
    w.uploads.send('lobby', '', [f]);
    expect(w.uploads.state.unfinished).toEqual([]);
  });

  it('forgetting it deletes the upload on the host and what tus remembers of it', async () => {
    const { storage, id } = await interrupted();
    storage.setItem('tus::tus-br-video.mp4::1', JSON.stringify({ uploadUrl: ENDPOINT + 'up-v' }));
    storage.setItem('tus::tus-br-other::2', JSON.stringify({ uploadUrl: ENDPOINT + 'other' }));
    const w = world({ storage, key: 'k-3' });
    w.uploads.forget(id);
    expect(w.uploads.state.unfinished).toEqual([]);
    expect(w.fetched).toEqual([{ url: ENDPOINT + 'up-v', init: { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0', [KEY_HEADER]: 'k-3' } } }]);
    expect(storage.getItem('tus::tus-br-video.mp4::1')).toBeNull();
    expect(storage.getItem('tus::tus-br-other::2')).not.toBeNull();
  });

  it('forgets what is older than a day', async () => {
    const { storage } = await interrupted();
    const clock = new ManualClock();
    clock.t += 25 * 60 * 60 * 1000;
    const { client } = setup();
    const u = new Uploads({ client, clock, storage: storage as unknown as Storage, storageKey: 'lanchat.uploads.h1', tus: () => ({}) as TusUpload });
    expect(u.state.unfinished).toEqual([]);
  });
});
