// The browser bridge: the page was served by a host, which answers /api/*
// on the same origin. Settings live in localStorage; notifications use the
// Web Notification API.

import { peerList, wsFromHTTP } from '../lib/peers';
import type { Bridge, Peer, SelfInfo, Settings } from './types';
import { localStore } from '../lib/storage';

const NAME_KEY = 'lanchat.name';
const LANG_KEY = 'lanchat.language';

async function getJSON(path: string): Promise<unknown> {
  const r = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

export function browserBridge(origin = location.origin): Bridge {
  let peersMissing = false;
  return {
    kind: 'browser',
    async self(): Promise<SelfInfo> {
      const i = (await getJSON('/api/info')) as Record<string, unknown>;
      const urls = Array.isArray(i.urls) ? i.urls.map(String) : [];
      return {
        id: String(i.id ?? ''),
        name: String(i.name ?? location.hostname),
        port: Number(i.port ?? location.port ?? 0),
        ws_url: wsFromHTTP(origin + '/'),
        join_urls: urls.length ? urls : [origin + '/'],
        version: String(i.version ?? ''),
        join_code: typeof i.join_code === 'string' && i.join_code ? i.join_code : undefined,
        join_code_required: !!i.join_code,
        fingerprint: typeof i.fingerprint === 'string' && i.fingerprint ? i.fingerprint : undefined,
      };
    },
    async settings(): Promise<Settings> {
      return { name: localStore()?.getItem(NAME_KEY) ?? '', language: localStore()?.getItem(LANG_KEY) ?? '' };
    },
    async saveSettings(s: Settings) {
      try {
        localStore()?.setItem(NAME_KEY, s.name);
        localStore()?.setItem(LANG_KEY, s.language);
      } catch {
        /* private mode: remembered for this page only */
      }
    },
    async peers(): Promise<Peer[]> {
      if (peersMissing) return [];
      try {
        return peerList(await getJSON('/api/peers'));
      } catch (e) {
        if (String(e).includes(': 404')) peersMissing = true;
        return [];
      }
    },
    async addPeer(addr: string): Promise<Peer> {
      const r = await fetch('/api/peers', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ addr }),
      });
      if (!r.ok) throw new Error(`${r.status}`);
      const p = peerList([await r.json()])[0];
      if (!p) throw new Error('bad answer');
      return p;
    },
    diagnosis() {
      return getJSON('/api/discovery');
    },
    onPeers(cb) {
      let stopped = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = async () => {
        const list = await this.peers();
        if (stopped) return;
        cb(list);
        timer = setTimeout(tick, peersMissing ? 60_000 : 5_000);
      };
      void tick();
      return () => {
        stopped = true;
        if (timer) clearTimeout(timer);
      };
    },
    notify(title, body) {
      if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
      try {
        new Notification(title, { body });
      } catch {
        /* some browsers allow notifications only from a service worker */
      }
    },
    openURL(url) {
      window.open(url, '_blank', 'noopener,noreferrer');
    },
    copy: copyText,
    setTitle(title) {
      document.title = title;
    },
  };
}

/**
 * copyText copies with the Clipboard API where the page may use it (secure
 * contexts), else with a hidden text field: a host's page on the LAN is
 * plain http, where navigator.clipboard does not exist.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall back below */
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.appendChild(ta);
  const active = document.activeElement as HTMLElement | null;
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  active?.focus?.();
  return ok;
}

/** askNotifications asks for permission once, from a user action. */
export function askNotifications(): void {
  if (typeof Notification !== 'undefined' && Notification.permission === 'default') {
    void Notification.requestPermission().catch(() => {});
  }
}
