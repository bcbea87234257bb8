// Turning the loosely shaped peer records of the discovery side into URLs.

import type { Peer } from '../bridge/types';

function withPort(host: string, port: number | undefined): string {
  if (/^\[.*\](:\d+)?$/.test(host) || /^[^:]+:\d+$/.test(host)) return host; // has a port already
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`; // bare IPv6
  return port ? `${host}:${port}` : host;
}

/** peerHTTP is the base URL (ending in "/") of a peer's web UI, or undefined. */
export function peerHTTP(p: Peer): string | undefined {
  const candidates: unknown[] = [p.url, ...(Array.isArray(p.urls) ? p.urls : [])];
  for (const c of candidates) {
    if (typeof c === 'string' && /^https?:\/\//i.test(c)) {
      try {
        const u = new URL(c);
        return `${u.protocol}//${u.host}/`;
      } catch {
        /* try the next */
      }
    }
  }
  const hosts: unknown[] = [p.addr, p.address, ...(Array.isArray(p.addrs) ? p.addrs : []), p.host];
  for (const h of hosts) {
    if (typeof h === 'string' && h.trim()) {
      const s = h.trim().replace(/^\w+:\/\//, '').replace(/\/.*$/, '');
      return `http://${withPort(s, typeof p.port === 'number' ? p.port : undefined)}/`;
    }
  }
  return undefined;
}

/** peerWS is the WebSocket URL of a peer's room server. */
export function peerWS(p: Peer): string | undefined {
  const h = peerHTTP(p);
  return h ? wsFromHTTP(h) : undefined;
}

/** wsFromHTTP turns a host's page URL into its /ws URL. */
export function wsFromHTTP(http: string): string {
  const u = new URL(http);
  return `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}/ws`;
}

/**
 * relayWS is the URL the desktop app's webview dials to reach the host at
 * addr through its own host, which checks over TLS that the host holds the
 * key fp (see backend/relay).
 */
export function relayWS(ownWS: string, addr: string, fp: string): string {
  const u = new URL(ownWS);
  u.pathname = '/relay';
  u.search = new URLSearchParams({ addr, fp }).toString();
  return u.toString();
}

/**
 * relayFiles is the files base (see filesBase) of the host at addr as the
 * desktop app's webview reaches it: through its own host (ownWS is its
 * /ws URL), which checks over TLS that the host holds the key fp, as
 * relayWS does for the WebSocket.
 */
export function relayFiles(ownWS: string, addr: string, fp: string): string {
  const u = new URL(ownWS);
  const scheme = u.protocol === 'wss:' ? 'https:' : 'http:';
  return `${scheme}//${u.host}/relay/files/${encodeURIComponent(fp)}/${encodeURIComponent(addr)}`;
}

/**
 * filesBase is the base of a host's files routes ("/files/…" follows it, no
 * trailing slash) for the WebSocket URL its client is connected to: the same
 * host and port over HTTP, or for a relayed host (relayWS) the relay's files
 * route on the own host.
 */
export function filesBase(ws: string): string {
  const u = new URL(ws);
  if (u.pathname === '/relay') {
    const addr = u.searchParams.get('addr') ?? '';
    const fp = u.searchParams.get('fp') ?? '';
    return relayFiles(ws, addr, fp);
  }
  return `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}`;
}

/** linkFingerprint is the key fingerprint a join link carries ("…/#fp=…"), or undefined. */
export function linkFingerprint(link: string): string | undefined {
  const i = link.indexOf('#');
  if (i < 0) return undefined;
  const fp = new URLSearchParams(link.slice(i + 1)).get('fp')?.replace(/[-\s]/g, '').toLowerCase();
  return fp || undefined;
}

/** shortFingerprint is the first 16 characters of a key fingerprint in groups of four, for people to compare. */
export function shortFingerprint(fp: string): string {
  const s = fp.replace(/[-\s]/g, '').toUpperCase().slice(0, 16);
  return s.match(/.{1,4}/g)?.join('-') ?? '';
}

/** normalizeAddr turns what a person typed ("10.0.0.5", "pc:47801", "http://pc:47800/") into host:port. */
export function normalizeAddr(input: string, defaultPort = 47800): string | undefined {
  let s = input.trim();
  if (!s) return undefined;
  s = s.replace(/^\w+:\/\//, '').replace(/\/.*$/, '');
  if (!s || /\s/.test(s)) return undefined;
  if (/^\[.*\]$/.test(s) || (s.includes(':') && !/^[^:]+:\d+$/.test(s) && !/^\[.*\]:\d+$/.test(s))) {
    // IPv6 without a port
    const bare = s.replace(/^\[|\]$/g, '');
    return `[${bare}]:${defaultPort}`;
  }
  if (/^[^:]+:\d+$/.test(s) || /^\[.*\]:\d+$/.test(s)) return s;
  return `${s}:${defaultPort}`;
}

/** peerList accepts an array or {peers: [...]} and keeps records with an id or name. */
export function peerList(v: unknown): Peer[] {
  const arr = Array.isArray(v) ? v : v && typeof v === 'object' && Array.isArray((v as { peers?: unknown }).peers) ? (v as { peers: unknown[] }).peers : [];
  const out: Peer[] = [];
  for (const p of arr) {
    if (!p || typeof p !== 'object') continue;
    const q = p as Peer;
    const id = typeof q.id === 'string' && q.id ? q.id : typeof q.name === 'string' ? q.name : '';
    if (!id) continue;
    out.push({ ...q, id, name: typeof q.name === 'string' && q.name ? q.name : id });
  }
  return out;
}
