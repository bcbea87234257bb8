// Protocol v1 wire types (docs/protocol.md). Field names are the wire's.

export const PROTOCOL_VERSION = 1;
export const LOBBY = 'lobby';

export interface Member {
  id: string;
  name: string;
  /** "host" or "cohost"; none for guests */
  role?: string;
  muted?: boolean;
}

export interface Limits {
  max_text: number;
  max_frame: number;
  rate_per_second: number;
  rate_burst: number;
  history: number;
  typing_ms: number;
  ping_seconds: number;
  can_create_rooms: boolean;
  join_code?: boolean;
  /** the largest room whose member list the host sends in full; larger rooms are large */
  full_list?: number;
  /** the largest file the host takes, in bytes; absent when the host takes no files */
  max_file?: number;
  /** who may send files; absent when the host takes no files */
  uploads?: Uploads;
  /** the host answers search frames */
  search?: boolean;
  /** how long after sending an author may edit a message, in seconds (0: no edits); absent from older hosts */
  edit_seconds?: number;
  /** who may post polls: hosts (and co-hosts) or everyone; absent from older hosts (none) */
  polls?: 'hosts' | 'everyone';
}

/** Who may send files (limits.uploads, control set_uploads): hosts are the host and its co-hosts. */
export type Uploads = 'everyone' | 'hosts' | 'nobody';
export const UPLOADS: readonly Uploads[] = ['everyone', 'hosts', 'nobody'];

/** One file of a message, as the host stored it (docs/protocol.md, "Files"). */
export interface Attachment {
  /** SHA-256 of the bytes, 64 hex digits */
  id: string;
  name: string;
  size: number;
  /** an inline image type only for bytes that decode as that image */
  type: string;
  /** an image's size as shown */
  width?: number;
  height?: number;
  /** the id of a JPEG preview at most 320 × 320 pixels */
  thumb?: string;
}

/** The most files one message carries. */
export const MAX_ATTACHMENTS = 10;

/** Where uploads are created (tus 1.0), below a host's files base. */
export const UPLOAD_PATH = '/files/uploads/';

const INLINE_IMAGES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** isInlineImage: only these types are ever shown in the page; everything else is downloaded. */
export function isInlineImage(type: string): boolean {
  return INLINE_IMAGES.has(type);
}

/**
 * fileURL is where a message's file (or its thumbnail, by the thumb's id) is
 * read: base is the host's files base (see filesBase), room and seq the
 * message's. download asks for the file to be saved rather than shown.
 */
export function fileURL(base: string, id: string, room: string, seq: number, key: string, download = false): string {
  const q = new URLSearchParams({ room, seq: String(seq), key });
  if (download) q.set('download', '1');
  return `${base.replace(/\/+$/, '')}/files/${encodeURIComponent(id)}?${q}`;
}

export interface RoomInfo {
  name: string;
  members: number;
  topic?: string;
  /** only hosts post */
  locked?: boolean;
  announcements?: boolean;
  /** slow mode: guests post at most once per this many seconds */
  slow_seconds?: number;
}

/**
 * The types of a room's log (docs/protocol.md, "Conversations"): messages
 * and polls are shown; the events act on an earlier one (target).
 */
export type LogType = 'message' | 'poll' | 'reaction' | 'edited' | 'vote' | 'poll_closed';
export const EVENT_TYPES: ReadonlySet<string> = new Set(['reaction', 'edited', 'vote', 'poll_closed']);

export interface Message {
  type: LogType;
  room: string;
  seq: number;
  id: string;
  from: Member;
  text: string;
  ts: number;
  client_id?: string;
  /** a tombstone: the message was deleted and has no text */
  deleted?: boolean;
  /** the message's files; a tombstone has none */
  attachments?: Attachment[];
  /** a reply: the seq of the message it answers, and that message's author */
  reply_to?: number;
  reply_from?: Member;
  /** an event: the seq of the message it acts on */
  target?: number;
  /** a reaction's emoji; remove: taken back */
  emoji?: string;
  remove?: boolean;
  /** a poll's answers */
  options?: string[];
  /** a vote's choice (0-based) */
  option?: number;
  /** a closed poll's votes per option */
  counts?: number[];
}

// Client frames.
export interface Hello {
  type: 'hello';
  version: number;
  name: string;
  resume?: { session?: string; rooms?: Record<string, number> };
  join_code?: string;
  host_token?: string;
  device?: string;
}
export interface Join {
  type: 'join';
  room: string;
  since?: number;
}
export interface Leave {
  type: 'leave';
  room: string;
}
export interface Send {
  type: 'send';
  room: string;
  client_id: string;
  /** may be empty when the message carries attachments */
  text: string;
  /** ids of finished uploads of this member (the last element of each upload's URL), at most MAX_ATTACHMENTS */
  attachments?: string[];
  /** the seq of the message of the room this one answers */
  reply_to?: number;
}
/** Adds (or with remove, takes back) our reaction to a message. */
export interface React {
  type: 'react';
  room: string;
  client_id: string;
  target: number;
  emoji: string;
  remove?: boolean;
}
/** Replaces the text of our own message, within limits.edit_seconds. */
export interface Edit {
  type: 'edit';
  room: string;
  client_id: string;
  target: number;
  text: string;
}
/** Posts a poll: the question and 2–6 options. */
export interface PollOut {
  type: 'poll';
  room: string;
  client_id: string;
  text: string;
  options: string[];
}
/** Our vote in a poll (a later one replaces it). */
export interface VoteOut {
  type: 'vote';
  room: string;
  client_id: string;
  target: number;
  option: number;
}
/** Closes a poll (its author, hosts). */
export interface ClosePoll {
  type: 'close_poll';
  room: string;
  client_id: string;
  target: number;
}
/** The conversation frames a client sends besides send (each acked like a send). */
export type EventOut = React | Edit | PollOut | VoteOut | ClosePoll;
/** An event frame without its room and client_id (what the outbox adds). */
export type EventBody = EventOut extends unknown ? (EventOut extends infer T ? (T extends EventOut ? Omit<T, 'client_id' | 'room'> : never) : never) : never;

/** The fewest and most options of a poll. */
export const POLL_OPTIONS = { min: 2, max: 6 } as const;
export interface TypingOut {
  type: 'typing';
  room: string;
}
export interface CreateRoom {
  type: 'create_room';
  room: string;
}
/** A host action (host and co-host members only). */
export interface Control {
  type: 'control';
  action: string;
  room?: string;
  member?: string;
  seq?: number;
  seconds?: number;
  name?: string;
  flag?: boolean;
  /** an announcement's text (action "announce") */
  text?: string;
}
export interface DM {
  type: 'dm';
  member: string;
}
/** Asks for the members of a room whose name contains query (a large room's search box). Rate-limited like send. */
export interface MembersQuery {
  type: 'members';
  room: string;
  query: string;
  /** default 50, at most 200 */
  limit?: number;
}
/** Finds messages by words in every room the member may read (docs/protocol.md, "search"). */
export interface SearchQuery {
  type: 'search';
  /** 1–100 characters, not blank */
  query: string;
}
/** Asks for the messages of a room below a seq (the oldest one has), at most limit (default 100, at most 500). */
export interface HistoryQuery {
  type: 'history';
  room: string;
  before: number;
  limit?: number;
}
export type ClientFrame = Hello | Join | Leave | Send | TypingOut | CreateRoom | Control | DM | MembersQuery | SearchQuery | HistoryQuery | EventOut;

// Server frames.
export interface Welcome {
  type: 'welcome';
  version: number;
  host: { id: string; name: string };
  member: Member;
  session: string;
  limits: Limits;
  rooms: RoomInfo[];
  /** a random id of the host's history database: it changes when that history is reset */
  epoch?: string;
  /** rooms named in hello.resume that the host no longer has (or never had) */
  gone_rooms?: string[];
  /** the join links ("http://10.0.0.2:47800/") of the other boxes of the host's cluster that are up; absent for a host on its own */
  boxes?: string[];
  /** the member's key for uploads and downloads, new with each session; absent when the host takes no files */
  files_key?: string;
  /** the host's newest announcements (at most three), oldest first */
  announcements?: Announcement[];
}
export interface Joined {
  type: 'joined';
  room: string;
  members: Member[];
  history: Message[] | null;
  last_seq: number;
  truncated?: boolean;
  first_kept?: number;
  /** the host's history epoch (as in welcome): a new one means the room's seqs started over */
  epoch?: string;
  /** the room's member count, the joiner included */
  count?: number;
  /** a large room: members holds only the hosts, co-hosts and the joiner */
  partial?: boolean;
  /** the message pinned at the top of the room, if any */
  pinned?: Message;
}
export interface Left {
  type: 'left';
  room: string;
}
export interface Ack {
  type: 'ack';
  client_id: string;
  room: string;
  seq: number;
  id: string;
  ts: number;
}
export interface TypingIn {
  type: 'typing';
  room: string;
  from: Member;
}
/** One member's change in a presence frame. */
export interface PresenceChange {
  event: 'joined' | 'left' | 'disconnected' | 'removed';
  member: Member;
}
/** Who joined, left or disconnected since the room's previous presence frame
 * (the host sends at most one per room every ~150 ms). */
export interface Presence {
  type: 'presence';
  room: string;
  changes: PresenceChange[];
  ts: number;
  /** the room's member count after the changes */
  count?: number;
  /** a large room: changes hold only hosts' and co-hosts' changes (possibly none) */
  partial?: boolean;
}
/**
 * A room's members. With partial true, the answer to a members query (query
 * echoed): a search result, not the room's list. Pushed by the host with
 * partial false and no query: the room's complete list, which replaces the
 * client's (a large room became small again).
 */
export interface MembersList {
  type: 'members';
  room: string;
  query?: string;
  members: Member[];
  count: number;
  partial?: boolean;
}
/** A piece of a search result's snippet: plain text, a matched word when match. */
export interface SnippetPart {
  text: string;
  match?: boolean;
}
/** One message a search found. */
export interface SearchHit {
  /** the room's name, or a private conversation's "@…" name */
  room: string;
  seq: number;
  id: string;
  from: Member;
  ts: number;
  snippet: SnippetPart[];
}
/** The answer to a search: at most 50 messages, newest first; more when there were more. */
export interface SearchResults {
  type: 'search_results';
  query: string;
  results: SearchHit[];
  more?: boolean;
}
/** The answer to a history query: a room's messages below before, in seq order. */
export interface HistoryAnswer {
  type: 'history';
  room: string;
  before: number;
  messages: Message[];
  /** the oldest seq the host keeps in the room */
  first_kept?: number;
}
export interface Rooms {
  type: 'rooms';
  rooms: RoomInfo[];
}
export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
  ref?: string;
}
export interface Deleted {
  type: 'deleted';
  room: string;
  seq: number;
  id: string;
  by: Member;
}
export interface Renamed {
  type: 'renamed';
  room: string;
  name: string;
}
export interface Closed {
  type: 'closed';
  room: string;
}
export interface MemberUpdate {
  type: 'member';
  member: Member;
}
/** host: the host's display name changed */
export interface HostUpdate {
  type: 'host';
  host: { id: string; name: string };
}
/** limits: the host changed a limit (who may send files); the whole limits object, as in welcome */
export interface LimitsUpdate {
  type: 'limits';
  limits: Limits;
}
/** pinned: what is pinned at the top of a room now (no message: nothing) */
export interface Pinned {
  type: 'pinned';
  room: string;
  message?: Message;
  by?: Member;
}
/** announcement: the host's word to every member, whatever rooms they are in */
export interface Announcement {
  type: 'announcement';
  id: string;
  from: Member;
  text: string;
  ts: number;
}
export type ServerFrame =
  | Welcome
  | Joined
  | Left
  | Ack
  | Message
  | TypingIn
  | Presence
  | Rooms
  | ErrorFrame
  | Deleted
  | Renamed
  | Closed
  | MemberUpdate
  | HostUpdate
  | LimitsUpdate
  | MembersList
  | SearchResults
  | HistoryAnswer
  | Pinned
  | Announcement;

// Error codes (docs/protocol.md, "Error codes"). The UI has words for each.
export const ERROR_CODES = [
  'bad_frame',
  'unknown_type',
  'hello_required',
  'already_hello',
  'version_unsupported',
  'bad_name',
  'name_taken',
  'bad_room_name',
  'no_such_room',
  'not_in_room',
  'cannot_leave_lobby',
  'room_exists',
  'room_create_disabled',
  'bad_client_id',
  'empty_text',
  'text_too_long',
  'rate_limited',
  'server_full',
  'too_many_rooms',
  'shutting_down',
  'replaced',
  'slow_consumer',
  'internal',
  'forbidden',
  'join_code_required',
  'join_code_wrong',
  'join_code_throttled',
  'muted',
  'room_locked',
  'slow_mode',
  'kicked',
  'banned',
  'no_such_member',
  'no_such_message',
  'bad_control',
  'no_such_file',
  'uploads_off',
  'file_too_large',
  'files_full',
  'bad_query',
  'search_off',
  'bad_reaction',
  'bad_poll',
  'edit_expired',
  'poll_closed',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The error codes of files: refusals of uploads (HTTP) and of sends with
 * attachments. The UI has words for each.
 */
export const FILE_ERROR_CODES = ['no_such_file', 'uploads_off', 'file_too_large', 'files_full'] as const;

// Codes after which reconnecting on our own would not help: the user must act.
export const FATAL_CODES: ReadonlySet<string> = new Set([
  'version_unsupported',
  'bad_name',
  'name_taken',
  'replaced',
  'join_code_required',
  'join_code_wrong',
  'kicked',
  'banned',
]);

/** A private conversation's room name starts with "@". */
export function isPrivate(room: string): boolean {
  return room.startsWith('@');
}

/** roomKey is the case-insensitive key of a room name, as the host keys it. */
export function roomKey(name: string): string {
  return name.trim().toLowerCase();
}

/**
 * parseBatch splits one WebSocket text message into frames: the host may put
 * several frames in one message, separated by "\n". Parts that are not JSON
 * objects with a string "type" are skipped.
 */
export function parseBatch(data: string): ServerFrame[] {
  const out: ServerFrame[] = [];
  for (const part of data.split('\n')) {
    const s = part.trim();
    if (!s) continue;
    try {
      const v = JSON.parse(s);
      if (v && typeof v === 'object' && !Array.isArray(v) && typeof v.type === 'string') out.push(v as ServerFrame);
    } catch {
      // a broken part does not spoil the rest of the batch
    }
  }
  return out;
}

/** utf8Length is the length of s in UTF-8 bytes, the unit of limits.max_text. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * textError says why text cannot go out at all: empty_text when it is blank
 * (unless, with mayBeBlank, files carry the message), text_too_long when it
 * is longer than limits.max_text (before the first welcome no limit is known).
 */
export function textError(text: string, limits: Limits | undefined, mayBeBlank = false): 'empty_text' | 'text_too_long' | undefined {
  if (!mayBeBlank && !text.trim()) return 'empty_text';
  if (limits && utf8Length(text) > limits.max_text) return 'text_too_long';
  return undefined;
}
