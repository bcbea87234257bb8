// The types, constants and pure rules of uploads (see uploads.ts): the parts of
// tus-js-client used, what the page sees of an upload, and the rules for errors,
// retries and ids.

import { MAX_ATTACHMENTS, type Member } from './protocol';
import type { ClientEvent, ClientState, Clock, FilesInfo, LocalFile } from './types';

/** The header that carries the files key on every upload request. */
export const KEY_HEADER = 'Lanchat-Key';

/** Bytes per PATCH request: progress the host has confirmed, and what a cut-off request can lose. */
export const CHUNK_SIZE = 8 << 20;

/** tus waits this long before each new attempt after a network error (about two and a half minutes in all). */
export const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 15000, 20000, 30000, 30000, 30000];

/** How long an unfinished upload is offered again after a reload. */
export const UNFINISHED_MS = 24 * 60 * 60 * 1000;

// ---- the parts of tus-js-client used (tus.ts adapts the real one) --------

export interface TusRequest {
  getMethod(): string;
  getURL(): string;
  setHeader(name: string, value: string): void;
}

export interface TusResponse {
  getStatus(): number;
  getHeader(name: string): string | undefined;
  getBody(): string;
}

/** A tus error: the request and the answer it got, when it got one. */
export interface TusError extends Error {
  originalRequest?: TusRequest | null;
  originalResponse?: TusResponse | null;
}

export interface PreviousUpload {
  uploadUrl: string | null;
  creationTime: string;
  urlStorageKey: string;
}

export interface TusOptions {
  endpoint: string;
  metadata: Record<string, string>;
  chunkSize: number;
  retryDelays: number[];
  removeFingerprintOnSuccess: boolean;
  onBeforeRequest(req: TusRequest): Promise<void>;
  onAfterResponse(req: TusRequest, res: TusResponse): void;
  onShouldRetry(err: TusError, attempt: number): boolean;
  onUploadUrlAvailable(): void;
  onProgress(sent: number, total: number): void;
  onChunkComplete(chunk: number, accepted: number, total: number): void;
  onSuccess(): void;
  onError(err: Error): void;
}

export interface TusUpload {
  readonly url: string | null;
  start(): void;
  /** stops; with terminate, also deletes the upload on the host */
  abort(terminate?: boolean): Promise<void>;
  findPreviousUploads(): Promise<PreviousUpload[]>;
  resumeFromPreviousUpload(p: PreviousUpload): void;
}

export type TusFactory = (file: File, options: TusOptions) => TusUpload;

// ---- what the page sees ---------------------------------------------------

export type FileState = 'queued' | 'uploading' | 'done' | 'failed';

export interface FileUpload {
  name: string;
  size: number;
  type: string;
  /** bytes sent so far */
  sent: number;
  state: FileState;
  /** why it failed: an error code (see UPLOAD_ERRORS) */
  error?: string;
}

export interface UploadJob {
  /** the message's client_id */
  clientId: string;
  room: string;
  files: FileUpload[];
  /** uploading; failed (retry or cancel); sending (the files are up, the message went to the outbox) */
  state: 'uploading' | 'failed' | 'sending';
  /** a request waits for the connection (and its files key) */
  waiting: boolean;
  error?: string;
}

/** A file of a message whose upload had not finished when the page went away. */
export interface UnfinishedFile {
  name: string;
  size: number;
  type: string;
  lastModified: number;
  /** bytes the host had confirmed */
  sent: number;
  /** the upload's URL on the host, once it was created */
  url?: string;
  /** the upload's id once it finished */
  upload?: string;
}

/** A message whose files had not all uploaded when the page went away: offered again after a reload. */
export interface Unfinished {
  /** the message's client_id, when it was sent */
  id: string;
  room: string;
  text: string;
  /** when it was started (ms) */
  at: number;
  files: UnfinishedFile[];
}

export interface UploadsState {
  /** the messages whose files upload now, by client_id */
  jobs: Record<string, UploadJob>;
  /** messages from an earlier page of this browser whose files had not finished */
  unfinished: Unfinished[];
}

/** What Uploads needs of the host's client (LanchatClient has it). */
export interface FilesClient {
  readonly files: FilesInfo | undefined;
  readonly online: boolean;
  subscribe(fn: (s: ClientState) => void): () => void;
  on(fn: (e: ClientEvent) => void): () => void;
  sendFiles(room: string, text: string, files: LocalFile[], replyTo?: number): { clientId?: string; error?: string };
  releaseFiles(clientId: string, uploadIds: string[]): void;
  holdFiles(clientId: string): boolean;
  filesFailed(clientId: string, reason: string): void;
  retry(clientId: string): void;
  discard(clientId: string): void;
}

export interface UploadsDeps {
  client: FilesClient;
  tus: TusFactory;
  clock: Clock;
  /** where unfinished messages are remembered (localStorage); none: not remembered */
  storage?: Storage;
  /** the storage key of this host's unfinished messages */
  storageKey: string;
  chunkSize?: number;
  retryDelays?: number[];
  /** for deleting the uploads of a forgotten message */
  fetch?: typeof fetch;
}

/**
 * The error codes of an upload, each with words in the catalogues
 * (files.error.<code>): the host's refusals (docs/protocol.md) and what can
 * go wrong on our side.
 */
export const UPLOAD_ERRORS = [
  'network',
  'forbidden',
  'uploads_off',
  'muted',
  'no_such_file',
  'file_too_large',
  'files_full',
  'empty_file',
  'too_many_files',
  'unreadable',
  'internal',
] as const;

/** Why this member cannot send files now, or undefined when they can. */
export type UploadBlock = 'none' | 'hosts' | 'nobody' | 'muted';

/**
 * uploadBlock says why me cannot send files on a host: it takes none, only
 * its hosts (the host and co-hosts) send them, nobody does, or me is muted.
 */
export function uploadBlock(files: FilesInfo | undefined, me: Member | undefined): UploadBlock | undefined {
  if (!files) return 'none';
  if (files.uploads === 'nobody') return 'nobody';
  if (me?.role === 'host' || me?.role === 'cohost') return undefined;
  if (files.uploads === 'hosts') return 'hosts';
  if (me?.muted) return 'muted';
  return undefined;
}

/** checkFiles finds what keeps files from being sent at all: too many, empty, or larger than the host takes. */
export function checkFiles(files: readonly { name: string; size: number }[], maxFile: number): { code: string; name?: string } | undefined {
  if (files.length > MAX_ATTACHMENTS) return { code: 'too_many_files' };
  for (const f of files) {
    if (f.size <= 0) return { code: 'empty_file', name: f.name };
    if (f.size > maxFile) return { code: 'file_too_large', name: f.name };
  }
  return undefined;
}

/** problemCode reads the code of a refusal's JSON body ({"type":"error","code":…}). */
export function problemCode(body: string): string | undefined {
  try {
    const v = JSON.parse(body);
    return v && typeof v === 'object' && typeof v.code === 'string' && v.code ? v.code : undefined;
  } catch {
    return undefined;
  }
}

/** uploadError puts a failed upload into one of UPLOAD_ERRORS. */
export function uploadError(err: unknown): string {
  const e = err as TusError | undefined;
  const res = e?.originalResponse;
  if (!res) return e?.originalRequest ? 'network' : 'unreadable';
  const status = res.getStatus();
  const code = problemCode(res.getBody());
  if (code && (UPLOAD_ERRORS as readonly string[]).includes(code)) return code;
  switch (status) {
    case 0:
      return 'network';
    case 403:
      return 'forbidden';
    case 404:
    case 410:
      return 'no_such_file';
    case 413:
      return 'file_too_large';
    case 507:
      return 'files_full';
  }
  return 'internal';
}

/**
 * shouldRetry: tus tries again after network errors, the host's passing
 * troubles (5xx but a full disk, 409, 423), and a stale files key (403
 * forbidden: the session is new, or the client not connected yet; the next
 * attempt waits for the current key). Refusals that stay (uploads off,
 * muted, too large, full) are the person's to see at once.
 */
export function shouldRetry(err: TusError): boolean {
  const res = err.originalResponse;
  if (!res) return true;
  const status = res.getStatus();
  if (status === 0 || status === 409 || status === 423) return true;
  if (status === 403) return problemCode(res.getBody()) === 'forbidden';
  return status >= 500 && status !== 507;
}

/** uploadId is the id of an upload: the last element of its URL's path. */
export function uploadId(url: string): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    /* a path already */
  }
  return path.split('/').filter(Boolean).pop() ?? '';
}

/** sameFile: a file picked again is the one remembered (what tus's fingerprint compares, but the host). */
export function sameFile(f: { name: string; size: number; type: string; lastModified: number }, u: Omit<UnfinishedFile, 'sent'>): boolean {
  return f.name === u.name && f.size === u.size && f.type === u.type && f.lastModified === u.lastModified;
}

/** The error of a stale key on a HEAD: tus takes it for a network error (and tries again) instead of starting the upload over. */
