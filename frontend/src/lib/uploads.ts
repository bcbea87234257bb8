// Files in messages, on our side: each message with files uploads them to
// the host (tus 1.0 at <files base>/files/uploads/, see docs/protocol.md,
// "Files"), then goes out through the outbox with the uploads' ids as its
// attachments. One Uploads per host.
//
// While the files upload the message shows as pending, with each file's
// progress; it can be cancelled (the uploads are aborted and deleted on the
// host) and, when an upload fails, retried. An upload survives a Wi-Fi blip
// (tus retries, resuming from the host's offset) and a reload of the page:
// tus keeps each upload's URL in localStorage under the file's fingerprint,
// so the same file picked or dropped again resumes where it stopped, and the
// messages whose files had not finished are remembered here (unfinished),
// so the page can offer to pick them again.
//
// Every request carries the member's current files key, which changes with
// each new session: the key is read when the request goes out, and a
// request waits while the client is offline.

import { UPLOAD_PATH, type Member } from './protocol';

import {
  problemCode,
  KEY_HEADER,
  CHUNK_SIZE,
  RETRY_DELAYS,
  UNFINISHED_MS,
  uploadBlock,
  checkFiles,
  uploadError,
  shouldRetry,
  uploadId,
  sameFile,
  type PreviousUpload,
  type TusUpload,
  type FileUpload,
  type UploadJob,
  type UnfinishedFile,
  type Unfinished,
  type UploadsState,
  type UploadsDeps,
} from './uploadtypes';

export * from './uploadtypes';

class StaleKey extends Error {}

interface FileTask {
  file: File;
  view: FileUpload;
  tus?: TusUpload;
  /** the upload's URL, once created */
  url?: string;
  /** the upload's id once it finished */
  upload?: string;
}

interface Job {
  clientId: string;
  room: string;
  text: string;
  at: number;
  tasks: FileTask[];
  state: UploadJob['state'];
  error?: string;
  /** requests waiting for the files key */
  waiting: number;
  cancelled: boolean;
}

export class Uploads {
  private readonly jobs = new Map<string, Job>();
  /** messages of an earlier page whose files had not finished */
  private unfinished: Unfinished[] = [];
  /** this page's messages whose files are not all up, as the next page will find them */
  private readonly remembered = new Map<string, Unfinished>();
  private listeners = new Set<(s: UploadsState) => void>();
  private snapshot?: UploadsState;
  private progressTimer: unknown;
  private keyWaiters: (() => void)[] = [];
  private wasOnline: boolean;
  private readonly stops: (() => void)[] = [];

  constructor(private readonly deps: UploadsDeps) {
    this.unfinished = this.load();
    this.wasOnline = deps.client.online;
    this.stops.push(
      deps.client.subscribe(() => this.clientChanged()),
      deps.client.on((e) => {
        if (e.type === 'sent') this.sent(e.clientId);
        else if (e.type === 'status') this.statusChanged(e.status.kind === 'online');
      }),
    );
  }

  // ---- the store ----------------------------------------------------------

  get state(): UploadsState {
    if (!this.snapshot) this.snapshot = this.build();
    return this.snapshot;
  }

  /** subscribe follows the uploads (a Svelte store); fn runs now and after each change. */
  subscribe(fn: (s: UploadsState) => void): () => void {
    this.listeners.add(fn);
    fn(this.state);
    return () => this.listeners.delete(fn);
  }

  /** has: the message of that client_id has files of ours (uploading, or up and sent). */
  has(clientId: string): boolean {
    return this.jobs.has(clientId);
  }

  /** stop ends following the client; uploads under way go on. */
  stop(): void {
    for (const s of this.stops.splice(0)) s();
  }

  // ---- sending --------------------------------------------------------------

  /**
   * send posts text with files to a room: the message shows at once as
   * pending and goes out when they are all up. It returns its client_id, or
   * what keeps it from being sent (an error code of UPLOAD_ERRORS, or of
   * the client's send, and the file it is about).
   */
  send(room: string, text: string, files: File[], me?: Member, replyTo?: number): { clientId?: string; error?: string; name?: string } {
    const info = this.deps.client.files;
    const block = uploadBlock(info, me);
    if (block) return { error: block === 'muted' ? 'muted' : 'uploads_off' };
    const bad = checkFiles(files, info!.maxFile);
    if (bad) return { error: bad.code, name: bad.name };
    const r = this.deps.client.sendFiles(
      room,
      text,
      files.map((f) => ({ name: f.name, size: f.size, type: f.type })),
      replyTo,
    );
    if (!r.clientId) return { error: r.error ?? 'internal' };
    this.start(r.clientId, room, text, files, []);
    return { clientId: r.clientId };
  }

  /**
   * resume picks up a message from an earlier page with the files picked
   * again: those that match its files upload again (tus resumes each where
   * it stopped), and the message goes out with them. It returns an error
   * code (no_such_file: none of the files is one of the message's) or
   * undefined.
   */
  resume(id: string, files: File[], me?: Member): { clientId?: string; error?: string; name?: string } {
    const u = this.unfinished.find((x) => x.id === id);
    if (!u) return { error: 'no_such_file' };
    const picked: File[] = [];
    const done: (UnfinishedFile | undefined)[] = [];
    for (const uf of u.files) {
      const f = files.find((x) => sameFile(x, uf) && !picked.includes(x));
      if (!f) continue;
      picked.push(f);
      done.push(uf);
    }
    if (!picked.length) return { error: 'no_such_file' };
    const info = this.deps.client.files;
    const block = uploadBlock(info, me);
    if (block) return { error: block === 'muted' ? 'muted' : 'uploads_off' };
    const r = this.deps.client.sendFiles(
      u.room,
      u.text,
      picked.map((f) => ({ name: f.name, size: f.size, type: f.type })),
    );
    if (!r.clientId) return { error: r.error ?? 'internal' };
    this.forget(id, false);
    this.start(r.clientId, u.room, u.text, picked, done);
    return { clientId: r.clientId };
  }

  /** forget drops a remembered message; its unfinished uploads are deleted on the host. */
  forget(id: string, terminate = true): void {
    const u = this.unfinished.find((x) => x.id === id);
    if (!u) return;
    this.unfinished = this.unfinished.filter((x) => x !== u);
    this.save();
    this.changed();
    if (!terminate) return;
    const key = this.deps.client.online ? this.deps.client.files?.key : undefined;
    for (const f of u.files) {
      if (!f.url) continue;
      this.dropStoredURL(f.url);
      // unfinished uploads are deleted (tus termination); finished ones the host sweeps within the hour
      if (!f.upload && key && this.deps.fetch) {
        this.deps.fetch(f.url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0', [KEY_HEADER]: key } }).catch(() => {});
      }
    }
  }

  /** dropStoredURL removes what tus remembers of an upload (by its URL), so the same file starts afresh. */
  private dropStoredURL(url: string): void {
    const s = this.deps.storage;
    if (!s) return;
    try {
      const drop: string[] = [];
      for (let i = 0; i < s.length; i++) {
        const k = s.key(i);
        if (!k?.startsWith('tus::')) continue;
        try {
          if (JSON.parse(s.getItem(k) ?? 'null')?.uploadUrl === url) drop.push(k);
        } catch {
          /* not tus's */
        }
      }
      for (const k of drop) s.removeItem(k);
    } catch {
      /* storage blocked */
    }
  }

  /** cancel stops a message's uploads, deletes them on the host and takes the message away. */
  cancel(clientId: string): void {
    const job = this.jobs.get(clientId);
    if (!job) {
      this.deps.client.discard(clientId);
      return;
    }
    job.cancelled = true;
    for (const t of job.tasks) {
      if (t.view.state === 'done') continue;
      t.tus?.abort(true).catch(() => {});
    }
    this.jobs.delete(clientId);
    this.forgetJob(job);
    this.deps.client.discard(clientId);
    this.changed();
  }

  /**
   * retry tries a failed message again: its uploads that failed go on from
   * where the host has them; a message the host refused for its files
   * (no_such_file: the uploads are gone) uploads them anew; any other
   * failure of the message itself is the outbox's retry.
   */
  retry(clientId: string, reason?: string): void {
    const job = this.jobs.get(clientId);
    if (!job) {
      this.deps.client.retry(clientId);
      return;
    }
    if (job.state === 'failed') {
      this.deps.client.retry(clientId);
      job.state = 'uploading';
      job.error = undefined;
      this.remember(job);
      for (const t of job.tasks) {
        if (t.view.state === 'failed') {
          t.view.state = 'queued';
          t.view.error = undefined;
        }
      }
      this.changed();
      this.next(job);
      return;
    }
    if (job.state === 'sending' && reason === 'no_such_file' && this.deps.client.holdFiles(clientId)) {
      job.state = 'uploading';
      for (const t of job.tasks) {
        t.upload = undefined;
        t.tus = undefined;
        t.view = { ...t.view, sent: 0, state: 'queued', error: undefined };
      }
      this.remember(job);
      this.changed();
      this.next(job);
      return;
    }
    this.deps.client.retry(clientId);
  }

  // ---- the work -------------------------------------------------------------

  private start(clientId: string, room: string, text: string, files: File[], earlier: (UnfinishedFile | undefined)[]): void {
    const job: Job = {
      clientId,
      room,
      text,
      at: this.deps.clock.now(),
      state: 'uploading',
      waiting: 0,
      cancelled: false,
      tasks: files.map((file, i) => {
        const e = earlier[i];
        const task: FileTask = { file, view: { name: file.name, size: file.size, type: file.type, sent: e?.upload ? file.size : (e?.sent ?? 0), state: e?.upload ? 'done' : 'queued' } };
        if (e?.upload) task.upload = e.upload;
        if (e?.url) task.url = e.url;
        return task;
      }),
    };
    this.jobs.set(clientId, job);
    // the same files picked again by hand: this message takes them over from the remembered one
    this.takeOver(files);
    this.remember(job);
    this.changed();
    this.next(job);
  }

  /** next starts the job's next queued file (one at a time), or sends the message when all are up. */
  private next(job: Job): void {
    if (job.cancelled || job.state !== 'uploading') return;
    if (job.tasks.some((t) => t.view.state === 'uploading')) return;
    const task = job.tasks.find((t) => t.view.state === 'queued');
    if (task) {
      this.upload(job, task);
      return;
    }
    if (job.tasks.every((t) => t.view.state === 'done' && t.upload)) {
      job.state = 'sending';
      this.forgetJob(job);
      this.changed();
      this.deps.client.releaseFiles(
        job.clientId,
        job.tasks.map((t) => t.upload!),
      );
    }
  }

  private upload(job: Job, task: FileTask): void {
    task.view.state = 'uploading';
    this.changed();
    const t = this.makeTus(job, task.file, (what) => {
      if (job.cancelled || task.tus !== t) return;
      switch (what.kind) {
        case 'progress':
          task.view.sent = what.sent;
          this.progressed();
          return;
        case 'chunk':
          this.rememberProgress(job, task, what.accepted);
          return;
        case 'url':
          if (t?.url && t.url !== task.url) {
            task.url = t.url;
            this.remember(job);
          }
          return;
        case 'success':
          task.upload = uploadId(t!.url ?? '');
          task.view.sent = task.view.size;
          task.view.state = task.upload ? 'done' : 'failed';
          if (!task.upload) task.view.error = 'internal';
          this.remember(job);
          this.changed();
          if (task.upload) this.next(job);
          else this.failed(job, 'internal');
          return;
        case 'error':
          task.view.state = 'failed';
          task.view.error = what.code;
          this.failed(job, what.code);
          return;
      }
    });
    if (!t) {
      task.view.state = 'failed';
      task.view.error = 'uploads_off';
      this.failed(job, 'uploads_off');
      return;
    }
    task.tus = t;
    // the same file from an earlier page (or an earlier try): tus goes on from the host's offset
    t.findPreviousUploads()
      .then((prev) => {
        const last = newest(prev);
        if (last) t.resumeFromPreviousUpload(last);
      })
      .catch(() => {})
      .then(() => {
        if (!job.cancelled && task.tus === t) t.start();
      });
  }

  private failed(job: Job, code: string): void {
    job.state = 'failed';
    job.error = code;
    this.deps.client.filesFailed(job.clientId, code);
    this.changed();
  }

  private makeTus(job: Job, file: File, on: (e: TusEvent) => void): TusUpload | undefined {
    const info = this.deps.client.files;
    if (!info) return undefined;
    const endpoint = info.base + UPLOAD_PATH;
    return this.deps.tus(file, {
      endpoint,
      metadata: { filename: file.name, filetype: file.type || 'application/octet-stream' },
      chunkSize: this.deps.chunkSize ?? CHUNK_SIZE,
      retryDelays: this.deps.retryDelays ?? RETRY_DELAYS,
      removeFingerprintOnSuccess: true,
      onBeforeRequest: async (req) => {
        req.setHeader(KEY_HEADER, await this.key(job));
      },
      onAfterResponse: (req, res) => {
        // A HEAD that a stale key got refused would make tus start the upload over: try again instead.
        if (req.getMethod() === 'HEAD' && res.getStatus() === 403 && problemCode(res.getBody()) === 'forbidden') throw new StaleKey('stale files key');
      },
      onShouldRetry: (err) => !job.cancelled && shouldRetry(err),
      onUploadUrlAvailable: () => on({ kind: 'url' }),
      onProgress: (sent) => on({ kind: 'progress', sent }),
      onChunkComplete: (_c, accepted) => on({ kind: 'chunk', accepted }),
      onSuccess: () => on({ kind: 'success' }),
      onError: (err) => on({ kind: 'error', code: uploadError(err) }),
    });
  }

  /** key is the current files key; while offline it waits for the connection to come back. */
  private key(job: Job): Promise<string> {
    const now = this.deps.client.online ? this.deps.client.files?.key : undefined;
    if (now) return Promise.resolve(now);
    job.waiting++;
    this.changed();
    return new Promise((resolve) => {
      this.keyWaiters.push(() => {
        job.waiting = Math.max(0, job.waiting - 1);
        this.changed();
        resolve(this.deps.client.files?.key ?? '');
      });
    });
  }

  /** clientChanged: requests waiting for the files key go out once there is one. */
  private clientChanged(): void {
    if (this.keyWaiters.length && this.deps.client.online && this.deps.client.files) {
      for (const w of this.keyWaiters.splice(0)) w();
    }
  }

  private statusChanged(online: boolean): void {
    this.clientChanged();
    if (online && !this.wasOnline) {
      // back after a drop longer than tus's tries: what failed for the connection goes on
      for (const job of [...this.jobs.values()]) {
        if (job.state === 'failed' && (job.error === 'network' || job.error === 'forbidden')) this.retry(job.clientId);
      }
    }
    this.wasOnline = online;
  }

  /** sent: the host stored the message; its files are its now. */
  private sent(clientId: string): void {
    const job = this.jobs.get(clientId);
    if (!job) return;
    this.jobs.delete(clientId);
    this.forgetJob(job);
    this.changed();
  }

  // ---- remembering ---------------------------------------------------------

  /** takeOver: files picked again by hand that a remembered message had; it no longer offers them. */
  private takeOver(files: File[]): void {
    let changed = false;
    for (const u of this.unfinished) {
      const left = u.files.filter((uf) => !files.some((f) => sameFile(f, uf)));
      if (left.length !== u.files.length) {
        u.files = left;
        changed = true;
      }
    }
    if (!changed) return;
    this.unfinished = this.unfinished.filter((u) => u.files.some((f) => !f.upload));
    this.save();
  }

  private record(job: Job): Unfinished {
    return {
      id: job.clientId,
      room: job.room,
      text: job.text,
      at: job.at,
      files: job.tasks.map((t) => {
        const f: UnfinishedFile = { name: t.file.name, size: t.file.size, type: t.file.type, lastModified: t.file.lastModified, sent: t.view.state === 'done' ? t.file.size : 0 };
        if (t.url) f.url = t.url;
        if (t.upload) f.upload = t.upload;
        return f;
      }),
    };
  }

  /** remember keeps a message whose files are not all up, for the next page. */
  private remember(job: Job): void {
    const prev = this.remembered.get(job.clientId);
    const rec = this.record(job);
    if (prev) rec.files.forEach((f, i) => (f.sent = Math.max(f.sent, prev.files[i]?.sent ?? 0)));
    this.remembered.set(job.clientId, rec);
    this.save();
  }

  /** rememberProgress notes what the host has confirmed of a file under way. */
  private rememberProgress(job: Job, task: FileTask, accepted: number): void {
    const rec = this.remembered.get(job.clientId);
    const f = rec?.files[job.tasks.indexOf(task)];
    if (!f) return;
    f.sent = Math.max(f.sent, accepted);
    this.save();
  }

  private forgetJob(job: Job): void {
    if (this.remembered.delete(job.clientId)) this.save();
  }

  private load(): Unfinished[] {
    const s = this.deps.storage;
    if (!s) return [];
    try {
      const v = JSON.parse(s.getItem(this.deps.storageKey) ?? '[]');
      if (!Array.isArray(v)) return [];
      const since = this.deps.clock.now() - UNFINISHED_MS;
      return v.filter(
        (u): u is Unfinished =>
          !!u && typeof u.id === 'string' && typeof u.room === 'string' && typeof u.text === 'string' && typeof u.at === 'number' && u.at >= since && Array.isArray(u.files) && u.files.length > 0,
      );
    } catch {
      return [];
    }
  }

  private save(): void {
    const s = this.deps.storage;
    if (!s) return;
    const all = [...this.unfinished, ...this.remembered.values()];
    try {
      if (all.length) s.setItem(this.deps.storageKey, JSON.stringify(all));
      else s.removeItem(this.deps.storageKey);
    } catch {
      /* storage full or blocked: not remembered */
    }
  }

  // ---- notifying -----------------------------------------------------------

  private progressed(): void {
    if (this.progressTimer !== undefined) return;
    this.progressTimer = this.deps.clock.setTimeout(() => {
      this.progressTimer = undefined;
      this.changed();
    }, 100);
  }

  private changed(): void {
    this.snapshot = undefined;
    if (this.progressTimer !== undefined) {
      this.deps.clock.clearTimeout(this.progressTimer);
      this.progressTimer = undefined;
    }
    const s = this.state;
    for (const fn of this.listeners) fn(s);
  }

  private build(): UploadsState {
    const jobs: Record<string, UploadJob> = {};
    for (const j of this.jobs.values()) {
      const v: UploadJob = { clientId: j.clientId, room: j.room, files: j.tasks.map((t) => ({ ...t.view })), state: j.state, waiting: j.waiting > 0 };
      if (j.error) v.error = j.error;
      jobs[j.clientId] = v;
    }
    return { jobs, unfinished: this.unfinished.map((u) => ({ ...u, files: u.files.map((f) => ({ ...f })) })) };
  }
}

type TusEvent = { kind: 'progress'; sent: number } | { kind: 'chunk'; accepted: number } | { kind: 'url' } | { kind: 'success' } | { kind: 'error'; code: string };

/** newest is the latest of the uploads tus remembers for a file. */
function newest(prev: PreviousUpload[]): PreviousUpload | undefined {
  let best: PreviousUpload | undefined;
  for (const p of prev) {
    if (!p.uploadUrl) continue;
    if (!best || Date.parse(p.creationTime) > Date.parse(best.creationTime)) best = p;
  }
  return best;
}
