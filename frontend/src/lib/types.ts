// The client's public types: what the stores and components see of it, and
// the parts of the platform it uses (a WebSocket, timers), so tests can hand
// it fakes. client.ts re-exports all of them.

import type { SeenPlace } from './announcements';
import type { Announcement, Attachment, Limits, Member, Message, SearchHit, Uploads } from './protocol';

/** The parts of a WebSocket the client uses, so tests can hand it a fake. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

/** Timers and randomness, replaceable in tests. */
export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
  random(): number;
}

export type Status =
  | { kind: 'idle' }
  | { kind: 'connecting'; attempt: number }
  | { kind: 'online' }
  /** waiting to reconnect; retryAt is a clock time in ms */
  | { kind: 'waiting'; attempt: number; retryAt: number; reason?: string }
  /** the host refused us for a reason the user must fix (name taken, join code...) */
  | { kind: 'refused'; code: string }
  | { kind: 'closed' };

export type OutState = 'pending' | 'sent' | 'failed';

/** A file of one of our messages before the host has described it: what the person picked. */
export interface LocalFile {
  name: string;
  size: number;
  type: string;
}

export interface MessageEntry {
  kind: 'message';
  key: string;
  room: string;
  seq?: number;
  epoch: number;
  id?: string;
  from: Member;
  text: string;
  ts: number;
  clientId?: string;
  own: boolean;
  state: OutState;
  /** why a message failed: an error code or "timeout" */
  error?: string;
  /** deleted: the text is gone, a tombstone stays */
  deleted?: boolean;
  /** the message's files, as the host stored them */
  attachments?: Attachment[];
  /** our message's files until the host describes them (uploading, or sent and not yet echoed) */
  files?: LocalFile[];
  /** a reply: the seq of the message it answers, and its author */
  replyTo?: number;
  replyFrom?: Member;
  /** the text is an edit's (the author changed it) */
  edited?: boolean;
  /** reactions in the order their emoji first came, each with who chose it */
  reactions?: Reaction[];
  /** a poll (the text is its question) */
  poll?: PollState;
}

/** One emoji on a message and who chose it. */
export interface Reaction {
  emoji: string;
  members: Member[];
}

/** A poll as its votes leave it. */
export interface PollState {
  options: string[];
  /** each member's vote (by member id), the last one counting */
  votes: Record<string, number>;
  /** votes per option */
  counts: number[];
  closed: boolean;
}

export interface NoticeEntry {
  kind: 'notice';
  key: string;
  room: string;
  /** joined/left/disconnected: presence; gap: older messages are not available;
   * reset: the host's history started over (it restarted without it, or it was
   * wiped); gone: the room no longer exists */
  event: 'joined' | 'left' | 'disconnected' | 'removed' | 'gap' | 'reset' | 'gone' | 'closed' | 'renamed' | 'locked' | 'unlocked' | 'slow' | 'slowOff';
  /** for renamed: the new name */
  detail?: string;
  member?: Member;
  /** presence of several people at once (a burst of joins): one notice for all */
  members?: Member[];
  ts: number;
}

export type Entry = MessageEntry | NoticeEntry;

/** The answer to the latest member search of a room (a large room's search box). */
export interface MemberSearch {
  /** what was asked, as sent */
  query: string;
  /** the most members asked for */
  limit: number;
  /** the matches (hosts and co-hosts first, then by name); empty until the answer comes (asked again, the last answer's) */
  members: Member[];
  /** the room's member count when the host answered */
  count: number;
  /** asked, and the answer has not come yet */
  pending: boolean;
}

export interface RoomView {
  key: string;
  name: string;
  /** in the room right now (the host confirmed) */
  joined: boolean;
  /** the client wants to be in the room (it re-joins after reconnecting) */
  wanted: boolean;
  /** the host said the room does not exist */
  gone: boolean;
  /** the room's member count (from the rooms list, joined, presence and members frames) */
  count: number;
  /** a large room: members holds only the hosts, co-hosts and oneself; search finds the rest */
  large: boolean;
  /** the latest member search, while one is asked (see LanchatClient.searchMembers) */
  search?: MemberSearch;
  topic?: string;
  locked?: boolean;
  announcements?: boolean;
  /** slow mode: guests post at most once per this many seconds (0: off) */
  slowSeconds: number;
  /** the message pinned at the top of the room */
  pinned?: Message;
  /** a private conversation (its name starts with "@") */
  private: boolean;
  /** a private conversation: the other person's name (undefined until they have been seen in it) */
  with?: string;
  /** whether the room is in the host's rooms list */
  listed: boolean;
  members: Member[];
  entries: Entry[];
  lastSeq: number;
  unread: number;
  mentions: number;
  typing: Member[];
}

/** How this host takes files, for a member of it; absent when it takes none. */
export interface FilesInfo {
  /** the member's key for uploads and downloads (new with each session) */
  key: string;
  /** where the files routes are ("/files/…" follows it): see filesBase */
  base: string;
  /** the largest file, in bytes */
  maxFile: number;
  /** who may send files */
  uploads: Uploads;
}

/** The message search asked last (see LanchatClient.search). */
export interface SearchState {
  /** what was asked, as sent */
  query: string;
  /** asked, and the answer has not come yet */
  pending: boolean;
  /** the messages found, newest first */
  results: SearchHit[];
  /** there were more than the host sends: more words would narrow it */
  more: boolean;
  /** why the search failed: an error code (bad_query, search_off, rate_limited, offline) */
  error?: string;
}

/** A message to bring into view (a search result opened): the room's key and the message's seq. */
export interface Focus {
  room: string;
  seq: number;
}

export interface ClientState {
  status: Status;
  host?: { id: string; name: string };
  me?: Member;
  limits?: Limits;
  /** the host takes files: how */
  files?: FilesInfo;
  rooms: RoomView[];
  active: string;
  /** the message search, while there is one */
  search?: SearchState;
  /** the message to bring into view, until the view says it did (LanchatClient.focused) */
  focus?: Focus;
  /** the host's announcements we know of, oldest first (the newest few) */
  announcements: Announcement[];
  /** how many of them arrived since the user last dismissed them */
  unseenAnnouncements: number;
  /** those of them not seen yet, oldest first (not necessarily the newest: our own count as seen) */
  newAnnouncements: Announcement[];
}

export interface ClientOptions {
  url: string;
  name: string;
  /** proves the host role: only ever give this to the own host's client */
  hostToken?: string;
  joinCode?: string;
  device?: string;
  /** a session token from an earlier page of the same tab */
  session?: string;
  /** rooms to be in besides the lobby */
  rooms?: string[];
  /** the room the user was looking at on an earlier page: one of rooms (or the lobby), the active room again */
  active?: string;
  socket?: SocketFactory;
  clock?: Clock;
  backoff?: { baseMs?: number; maxMs?: number };
  ackTimeoutMs?: number;
  /** how long a typing hint lasts */
  typingMs?: number;
  /** where the announcements the user saw are remembered for a later page (see announcements.ts); none: for this page only */
  seenAnnouncements?: SeenPlace;
}

export type ClientEvent =
  | { type: 'message'; room: string; entry: MessageEntry }
  | { type: 'error'; code: string; ref?: string; message: string }
  /** the host stored one of our messages (its ack came, or it was found in history) */
  | { type: 'sent'; room: string; clientId: string }
  | { type: 'status'; status: Status }
  /** the host announced something to everyone (live, or new to us in a welcome) */
  | { type: 'announcement'; announcement: Announcement };
