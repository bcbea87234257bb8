// Test doubles for the client: a scriptable WebSocket and a manual clock.

import type { Clock, SocketLike } from '../client';

export class FakeSocket implements SocketLike {
  readyState = 0;
  sent: any[] = [];
  closed?: { code?: number; reason?: string };
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data));
  }
  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
    this.readyState = 3;
  }

  // ---- driven by the test ----
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  /** push delivers server frames; several frames go in one message, "\n"-separated. */
  push(...frames: object[]): void {
    this.onmessage?.({ data: frames.map((f) => JSON.stringify(f)).join('\n') });
  }
  raw(data: string): void {
    this.onmessage?.({ data });
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
  /** frames sent of one type */
  of(type: string): any[] {
    return this.sent.filter((f) => f.type === type);
  }
}

export class ManualClock implements Clock {
  t = 1_000_000;
  rnd = 0.5;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  now(): number {
    return this.t;
  }
  random(): number {
    return this.rnd;
  }
  /** advance moves time on, running the timers that come due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const first = this.timers[0];
      if (!first || first.at > end) break;
      this.timers.shift();
      this.t = first.at;
      first.fn();
    }
    this.t = end;
  }
  pending(): number {
    return this.timers.length;
  }
}

/** Sockets collects the sockets a client opens. */
export class Sockets {
  all: FakeSocket[] = [];
  factory = (url: string): FakeSocket => {
    const s = new FakeSocket(url);
    this.all.push(s);
    return s;
  };
  get last(): FakeSocket {
    const s = this.all[this.all.length - 1];
    if (!s) throw new Error('no socket opened');
    return s;
  }
}

export const limits = {
  max_text: 50,
  max_frame: 65536,
  rate_per_second: 10,
  rate_burst: 20,
  history: 100,
  typing_ms: 2000,
  ping_seconds: 20,
  can_create_rooms: false,
  search: true,
};

export function welcome(session = 'sess-1', member = { id: 'm-me', name: 'Alice' }, hostId = 'h1') {
  return {
    type: 'welcome',
    version: 1,
    host: { id: hostId, name: 'lab' },
    member,
    session,
    limits,
    rooms: [
      { name: 'lobby', members: 1 },
      { name: 'general', members: 0 },
      { name: 'random', members: 0 },
    ],
  };
}

export const bob = { id: 'm-bob', name: 'Bob' };

export function msg(room: string, seq: number, text: string, from = bob, client_id?: string, id?: string) {
  return { type: 'message', room, seq, id: id ?? `${room}-${seq}`, from, text, ts: 1764067200000 + seq, client_id };
}

export function joined(room: string, history: object[], last_seq: number, members = [bob]) {
  return { type: 'joined', room, members, history, last_seq };
}

/** MemStorage is a Storage (localStorage) kept in memory. */
export class MemStorage {
  m = new Map<string, string>();
  get length() {
    return this.m.size;
  }
  clear() {
    this.m.clear();
  }
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, String(v));
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
  key(i: number) {
    return [...this.m.keys()][i] ?? null;
  }
}
