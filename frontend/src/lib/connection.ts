// The connection to one host: it opens the WebSocket, hands over what comes
// in, and after a close waits (exponential backoff with equal jitter) and
// opens again, unless it was closed for good or the host refused us for a
// reason the user must fix. It owns the status the UI shows.
//
// A host may be one box of a cluster (docs/protocol.md, "welcome": boxes).
// The connection then knows the other boxes that were up at the last welcome
// and fails over to them:
//
// - After a welcomed connection drops, the first attempt goes to the box we
//   were on (a blip, or a box that restarts, is best resumed there), unless
//   that box said it was shutting down. Every attempt that fails (the socket
//   closes before a welcome, or does not even open within OPEN_TIMEOUT_MS,
//   which is what a box whose machine is gone looks like) moves on to the
//   next box, in the order [the box we were on, the others as the last
//   welcome listed them], round and round. The backoff grows once per round,
//   not per attempt, so the other boxes are tried within a second or two.
// - The box that welcomes us becomes the current one: later reconnects
//   start there.
// - While failing over, the lost box's hold on our name may make the new box
//   answer name_taken for a few seconds. That is not fatal then: the same box
//   is asked again, with the backoff, for up to NAME_RETRY_MS from the first
//   such answer; after that name_taken is the refusal it always was.
//
// A host on its own (no boxes) behaves exactly as before: one URL, backoff
// per attempt, name_taken fatal.

import { FATAL_CODES, parseBatch, type ClientFrame, type ServerFrame } from './protocol';
import type { Clock, SocketFactory, SocketLike, Status } from './types';

const OPEN = 1;

/** Errors before a close that are worth showing while we wait to reconnect. */
const WAIT_REASONS: ReadonlySet<string> = new Set(['shutting_down', 'server_full', 'join_code_throttled']);

/**
 * While other boxes are known, an attempt whose socket has not opened after
 * this long counts as failed and the next box is tried. A box that is down
 * but whose machine is up refuses at once; a machine that is gone makes the
 * browser wait for its TCP timeout (minutes). 3 s is far above a LAN's
 * connect time, also for a busy box. It doubles per failed round.
 */
export const OPEN_TIMEOUT_MS = 3000;
/** How long, from the first one, name_taken answers during a failover are retried (the lost box holds the name for up to ~5 s). */
export const NAME_RETRY_MS = 15000;

export interface ConnectionOptions {
  url: string;
  socket: SocketFactory;
  clock: Clock;
  baseMs: number;
  maxMs: number;
}

/** What the connection tells the client. */
export interface ConnectionEvents {
  /** the socket is open: time for hello */
  opened(): void;
  frame(f: ServerFrame): void;
  /** the connection is gone (closed, dropped, or refused) */
  dropped(): void;
  status(s: Status): void;
}

export class Connection {
  status: Status = { kind: 'idle' };
  private sock?: SocketLike;
  private attempt = 0;
  private retryTimer?: unknown;
  private stopped = false;
  /** a fatal error's code: the next close does not reconnect */
  private refused?: string;
  /** why the host sent us away, shown while we wait */
  private reason?: string;
  private welcomed = false;
  /** the box that welcomed us last (at first the URL we were given): reconnects start there */
  private current: string;
  /** the other boxes of the host's cluster, as ws URLs, from the last welcome */
  private others: string[] = [];
  /** the URL of the socket open or being opened (or of the last one) */
  private target: string;
  /** which box the next attempt goes to: an index into [current, ...others], modulo its length */
  private next = 0;
  /** set while failing over (a welcomed connection dropped and other boxes are known) */
  private failover?: { nameTakenSince?: number };
  /** the box answered name_taken during a failover: the next attempt asks it again */
  private stay = false;
  private openTimer?: unknown;

  constructor(
    private readonly opts: ConnectionOptions,
    private readonly on: ConnectionEvents,
  ) {
    this.current = this.target = opts.url;
  }

  /** url is the box of the socket that is open or being opened (or of the last one). */
  get url(): string {
    return this.target;
  }

  /** home is the box that welcomed us last (at first the URL we were given). */
  get home(): string {
    return this.current;
  }

  /** boxes are the other boxes that failover tries. */
  get boxes(): readonly string[] {
    return this.others;
  }

  /**
   * setBoxes takes the other boxes of the cluster (ws URLs) from a welcome;
   * the box that sent it is left out. Call it before welcome().
   */
  setBoxes(urls: readonly string[]): void {
    const seen = new Set<string>([this.target]);
    this.others = [];
    for (const u of urls) {
      if (seen.has(u)) continue;
      seen.add(u);
      this.others.push(u);
    }
  }

  /** online: the host welcomed us, and the socket is still open. */
  get online(): boolean {
    return this.welcomed && !!this.sock && this.sock.readyState === OPEN;
  }

  connect(): void {
    this.stopped = false;
    this.refused = undefined;
    if (this.sock) return;
    this.clearRetry();
    this.open();
  }

  /** reconnectNow skips the wait before the next attempt. */
  reconnectNow(): void {
    if (this.stopped && this.status.kind === 'closed') return;
    this.refused = undefined;
    this.clearRetry();
    if (this.sock) return;
    this.stopped = false;
    this.open();
  }

  /** close ends the connection for good (until connect is called again). */
  close(): void {
    this.stopped = true;
    this.failover = undefined;
    this.clearRetry();
    const s = this.sock;
    if (s) {
      this.detach();
      try {
        s.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
    this.drop();
    this.setStatus({ kind: 'closed' });
  }

  transmit(f: ClientFrame): void {
    const s = this.sock;
    if (!s || s.readyState !== OPEN) return;
    try {
      s.send(JSON.stringify(f));
    } catch {
      /* the close handler takes over */
    }
  }

  /** welcome: the host took us in. The backoff starts over, and this box is the current one. */
  welcome(): void {
    this.welcomed = true;
    this.attempt = 0;
    this.reason = undefined;
    this.current = this.target;
    this.others = this.others.filter((u) => u !== this.current);
    this.next = 0;
    this.failover = undefined;
    this.stay = false;
    this.setStatus({ kind: 'online' });
  }

  /** error notes an error frame: a fatal one stops the reconnecting, some say why we wait. */
  error(code: string): void {
    if (code === 'name_taken' && this.failover && !this.welcomed) {
      // The box we lost may still hold our name: ask this box again, for a while.
      const now = this.opts.clock.now();
      this.failover.nameTakenSince ??= now;
      if (now - this.failover.nameTakenSince < NAME_RETRY_MS) {
        this.stay = true;
        return;
      }
    }
    if (FATAL_CODES.has(code)) this.refused = code;
    if (WAIT_REASONS.has(code)) this.reason = code;
  }

  /** candidates: where attempts go, in turn. */
  private candidates(): string[] {
    return [this.current, ...this.others];
  }

  private open(): void {
    this.welcomed = false;
    this.stay = false;
    this.setStatus({ kind: 'connecting', attempt: this.attempt });
    const list = this.candidates();
    this.target = list[this.next % list.length];
    let s: SocketLike;
    try {
      s = this.opts.socket(this.target);
    } catch {
      this.failed();
      return;
    }
    this.sock = s;
    if (this.others.length) {
      const round = Math.floor(this.attempt / list.length);
      this.openTimer = this.opts.clock.setTimeout(
        () => {
          this.openTimer = undefined;
          if (this.sock !== s || s.readyState === OPEN) return;
          // not even open: count it as failed and go on (the close comes to a detached socket)
          this.onClose(s);
          try {
            s.close();
          } catch {
            /* never opened */
          }
        },
        OPEN_TIMEOUT_MS * 2 ** Math.min(round, 3),
      );
    }
    s.onopen = () => {
      this.clearOpenTimer();
      this.on.opened();
    };
    s.onmessage = (ev) => {
      if (typeof ev.data === 'string') for (const f of parseBatch(ev.data)) this.on.frame(f);
    };
    s.onclose = () => this.onClose(s);
    s.onerror = () => {
      /* onclose follows */
    };
  }

  private detach(): void {
    this.clearOpenTimer();
    const s = this.sock;
    if (!s) return;
    s.onopen = s.onmessage = s.onclose = s.onerror = null;
    this.sock = undefined;
  }

  private onClose(s: SocketLike): void {
    if (s !== this.sock) return;
    const wasOnline = this.welcomed;
    this.detach();
    this.drop();
    if (this.stopped) {
      this.setStatus({ kind: 'closed' });
    } else if (this.refused) {
      this.setStatus({ kind: 'refused', code: this.refused });
    } else if (wasOnline) {
      // We were in: try the same box first, unless it said it is going away.
      this.next = this.reason === 'shutting_down' && this.others.length ? 1 : 0;
      this.failover = this.others.length ? {} : undefined;
      this.scheduleReconnect();
    } else {
      this.failed();
    }
  }

  /** failed: an attempt did not get us in. The next one goes to the next box, or to the same one when it only held our name. */
  private failed(): void {
    if (!this.stay) this.next++;
    this.stay = false;
    this.scheduleReconnect();
  }

  /** drop forgets what only lives as long as a connection. */
  private drop(): void {
    this.welcomed = false;
    this.on.dropped();
  }

  private scheduleReconnect(): void {
    const { clock, baseMs, maxMs } = this.opts;
    // The backoff grows per round over the boxes (per attempt for a host on its own).
    const round = Math.floor(this.attempt / this.candidates().length);
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(round, 20));
    // "equal jitter": half the delay is fixed, half random, so that many
    // clients of a restarted host do not all come back at the same moment.
    const delay = ceiling / 2 + clock.random() * (ceiling / 2);
    this.attempt++;
    this.setStatus({ kind: 'waiting', attempt: this.attempt, retryAt: clock.now() + delay, reason: this.reason });
    this.retryTimer = clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped && !this.sock) this.open();
    }, delay);
  }

  private clearOpenTimer(): void {
    if (this.openTimer !== undefined) {
      this.opts.clock.clearTimeout(this.openTimer);
      this.openTimer = undefined;
    }
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) {
      this.opts.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  private setStatus(s: Status): void {
    this.status = s;
    this.on.status(s);
  }
}
