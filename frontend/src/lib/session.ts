// Who we are to the host: what the hello says (our name, the session to
// resume, the join code, the host token, this device) and what the welcome
// answers (the host, our member, the limits, the files key).
//
// Across a failover to another box of the cluster the member id changes: our
// earlier ids (formerIds) still count as ours.

import { filesBase } from './peers';
import { PROTOCOL_VERSION, type ClientFrame, type Limits, type Member, type Welcome } from './protocol';
import type { ClientOptions, FilesInfo } from './types';

export class Session {
  /** the name the next hello gives */
  name: string;
  private readonly hostToken?: string;
  private joinCode?: string;
  private readonly device?: string;
  /** the session token from the last welcome (or the options): the next hello resumes it */
  token?: string;
  host?: { id: string; name: string };
  me?: Member;
  /** our member ids on earlier sessions with this host (boxes we failed over from) */
  readonly formerIds = new Set<string>();
  limits?: Limits;
  /** the member's files key from the last welcome (none: the host takes no files) */
  private filesKey?: string;

  constructor(opts: Pick<ClientOptions, 'name' | 'hostToken' | 'joinCode' | 'device' | 'session'>) {
    this.name = opts.name.trim();
    this.hostToken = opts.hostToken || undefined;
    this.joinCode = opts.joinCode || undefined;
    this.device = opts.device;
    this.token = opts.session;
  }

  /** setName changes the name used for the next hello (after name_taken, say). */
  setName(name: string): void {
    this.name = name.trim();
    this.token = undefined;
  }

  setJoinCode(code: string): void {
    this.joinCode = code.trim() || undefined;
  }

  /** mine: a member id that is us, now or on a box we failed over from. */
  readonly mine = (id: string): boolean => (this.me !== undefined && id === this.me.id) || this.formerIds.has(id);

  /** author is who our messages are from: our member, or before the first welcome our name. */
  get author(): Member {
    return this.me ?? { id: '', name: this.name };
  }

  /**
   * hello is the greeting, resuming the session and the rooms (name: the
   * last seq we have) it can name. ownHost: it goes to the address we were
   * given, not to another box of the cluster.
   */
  hello(rooms: Record<string, number>, ownHost: boolean): ClientFrame {
    const resumesRooms = Object.keys(rooms).length > 0;
    const hello: ClientFrame = { type: 'hello', version: PROTOCOL_VERSION, name: this.name };
    if (this.token || resumesRooms) {
      hello.resume = {};
      if (this.token) hello.resume.session = this.token;
      if (resumesRooms) hello.resume.rooms = rooms;
    }
    if (this.joinCode) hello.join_code = this.joinCode;
    // The host token goes only to the address we were given (the own host), never to another box.
    if (this.hostToken && ownHost) hello.host_token = this.hostToken;
    if (this.device) hello.device = this.device;
    return hello;
  }

  /**
   * welcomed takes in who a welcome says we are. failedOver: it comes from
   * another box of the cluster than the one we were on (each box has its own
   * host id, but the same rooms, seqs and epoch: everything carries over).
   * It returns whether, instead, a different host answers at this address:
   * then nothing carries over, and the caller forgets the rooms' seqs.
   */
  welcomed(w: Welcome, failedOver: boolean): boolean {
    const otherHost = !!this.host && this.host.id !== w.host.id && !failedOver;
    if (otherHost) this.formerIds.clear();
    if (this.me && this.me.id !== w.member.id) this.formerIds.add(this.me.id);
    this.formerIds.delete(w.member.id);
    this.host = w.host;
    this.me = w.member;
    this.token = w.session;
    this.limits = w.limits;
    this.filesKey = typeof w.files_key === 'string' && w.files_key ? w.files_key : undefined;
    return otherHost;
  }

  /** hostRenamed takes the host's new name: true when the frame names our host (the same id) and carries a name. */
  hostRenamed(host: { id: string; name: string } | undefined): boolean {
    if (!this.host || host?.id !== this.host.id || typeof host.name !== 'string') return false;
    this.host = { ...this.host, name: host.name };
    return true;
  }

  /** newLimits takes the whole limits object, as in welcome (who may send files changed); false when there is none. */
  newLimits(limits: Limits | undefined): boolean {
    if (!limits || typeof limits !== 'object') return false;
    this.limits = limits;
    return true;
  }

  /** member takes a member's whole record (an absent muted or role means none): ours, when it is us now. */
  member(m: Member): void {
    if (this.me?.id === m.id) this.me = { ...m };
  }

  /** files says how this host takes files now, at the box of url; undefined when it takes none (or before the first welcome). */
  files(url: string): FilesInfo | undefined {
    const l = this.limits;
    if (!this.filesKey || !l?.max_file || !l.uploads) return undefined;
    let base: string;
    try {
      base = filesBase(url);
    } catch {
      return undefined;
    }
    return { key: this.filesKey, base, maxFile: l.max_file, uploads: l.uploads };
  }
}
