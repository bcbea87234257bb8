// The connection to one host: it opens the WebSocket, hands over what comes
// in, and after a close waits (exponential backoff with equal jitter) and
// opens again, unless it was closed for good or the host refused us for a
// reason the user must fix. It owns the status the UI shows.

import { FATAL_CODES, parseBatch, type ClientFrame, type ServerFrame } from './protocol';
import type { Clock, SocketFactory, SocketLike, Status } from './types';

const OPEN = 1;

/** Errors before a close that are worth showing while we wait to reconnect. */
const WAIT_REASONS: ReadonlySet<string> = new Set(['shutting_down', 'server_full', 'join_code_throttled']);

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

  constructor(
    private readonly opts: ConnectionOptions,
    private readonly on: ConnectionEvents,
  ) {}

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

  /** welcome: the host took us in. The backoff starts over. */
  welcome(): void {
    this.welcomed = true;
    this.attempt = 0;
    this.reason = undefined;
    this.setStatus({ kind: 'online' });
  }

  /** error notes an error frame: a fatal one stops the reconnecting, some say why we wait. */
  error(code: string): void {
    if (FATAL_CODES.has(code)) this.refused = code;
    if (WAIT_REASONS.has(code)) this.reason = code;
  }

  private open(): void {
    this.welcomed = false;
    this.setStatus({ kind: 'connecting', attempt: this.attempt });
    let s: SocketLike;
    try {
      s = this.opts.socket(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.sock = s;
    s.onopen = () => this.on.opened();
    s.onmessage = (ev) => {
      if (typeof ev.data === 'string') for (const f of parseBatch(ev.data)) this.on.frame(f);
    };
    s.onclose = () => this.onClose(s);
    s.onerror = () => {
      /* onclose follows */
    };
  }

  private detach(): void {
    const s = this.sock;
    if (!s) return;
    s.onopen = s.onmessage = s.onclose = s.onerror = null;
    this.sock = undefined;
  }

  private onClose(s: SocketLike): void {
    if (s !== this.sock) return;
    this.detach();
    this.drop();
    if (this.stopped) {
      this.setStatus({ kind: 'closed' });
    } else if (this.refused) {
      this.setStatus({ kind: 'refused', code: this.refused });
    } else {
      this.scheduleReconnect();
    }
  }

  /** drop forgets what only lives as long as a connection. */
  private drop(): void {
    this.welcomed = false;
    this.on.dropped();
  }

  private scheduleReconnect(): void {
    const { clock, baseMs, maxMs } = this.opts;
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(this.attempt, 20));
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
