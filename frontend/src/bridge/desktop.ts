// The desktop bridge: the Wails-bound Go struct app.App, called through the
// objects Wails puts on window (window.go.app.App.<Method>, window.runtime),
// so no generated bindings are needed.

import { peerList } from '../lib/peers';
import { copyText } from './browser';
import type { Bridge, FileLimits, Peer, SelfInfo, Settings } from './types';

type Fn = (...args: unknown[]) => Promise<unknown>;

interface WailsWindow {
  go?: { app?: { App?: Record<string, Fn> } };
  runtime?: {
    EventsOn?: (name: string, cb: (...data: unknown[]) => void) => (() => void) | void;
    EventsOff?: (name: string) => void;
    BrowserOpenURL?: (url: string) => void;
    ClipboardSetText?: (text: string) => Promise<boolean>;
    WindowSetTitle?: (title: string) => void;
  };
}

/**
 * reportErrors sends the page's uncaught errors to the app's log: a
 * webview has no console anyone sees.
 */
function reportErrors() {
  const log = (what: string, e: unknown) => {
    const text = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
    void call('ReportUIError', `${what}: ${text}`).catch(() => {});
  };
  window.addEventListener('error', (e) => log('error', e.error ?? e.message));
  window.addEventListener('unhandledrejection', (e) => log('unhandled rejection', e.reason));
}

function w(): WailsWindow {
  return globalThis as unknown as WailsWindow;
}

/** hasDesktop reports whether the page runs inside the desktop app. */
export function hasDesktop(): boolean {
  return typeof w().go?.app?.App === 'object';
}

function call(method: string, ...args: unknown[]): Promise<unknown> {
  const fn = w().go?.app?.App?.[method];
  if (typeof fn !== 'function') return Promise.reject(new Error(`the desktop app has no ${method}`));
  return fn(...args);
}

/**
 * saveDownloads hands a click on a download link (a message's file) to the
 * app, which asks where to save it: the webview saves no downloads itself.
 */
function saveDownloads() {
  if (typeof w().go?.app?.App?.SaveFile !== 'function') return;
  document.addEventListener(
    'click',
    (e) => {
      const a = (e.target as Element | null)?.closest?.('a[download]') as HTMLAnchorElement | null;
      if (!a || e.defaultPrevented) return;
      e.preventDefault();
      void call('SaveFile', a.href, a.getAttribute('download') ?? '').catch((err) => {
        void call('ReportUIError', `save file: ${String(err)}`).catch(() => {});
      });
    },
    true,
  );
}

export function desktopBridge(): Bridge {
  reportErrors();
  saveDownloads();
  const b: Bridge = {
    kind: 'desktop',
    async self() {
      const s = ((await call('Self')) ?? {}) as Partial<SelfInfo> & { join_code?: unknown };
      return {
        id: String(s.id ?? ''),
        name: String(s.name ?? ''),
        port: Number(s.port ?? 0),
        ws_url: String(s.ws_url ?? ''),
        join_urls: Array.isArray(s.join_urls) ? s.join_urls.map(String) : [],
        version: String(s.version ?? ''),
        host_token: typeof s.host_token === 'string' ? s.host_token : undefined,
        join_code: typeof s.join_code === 'string' && s.join_code ? s.join_code : undefined,
        join_code_required: typeof s.join_code === 'string' ? !!s.join_code : !!s.join_code,
        fingerprint: typeof s.fingerprint === 'string' && s.fingerprint ? s.fingerprint : undefined,
      };
    },
    async settings() {
      const s = ((await call('Settings')) ?? {}) as Partial<Settings>;
      return { name: String(s.name ?? ''), language: String(s.language ?? ''), data_dir: s.data_dir, host_name: String(s.host_name ?? '') };
    },
    async saveSettings(s: Settings) {
      await call('SaveSettings', s);
    },
    async peers() {
      return peerList(await call('Peers'));
    },
    async addPeer(addr: string) {
      return peerList([await call('AddPeer', addr)])[0] as Peer;
    },
    diagnosis() {
      return call('Diagnosis');
    },
    onPeers(cb) {
      const rt = w().runtime;
      const off = rt?.EventsOn?.('peers', (data: unknown) => cb(peerList(data)));
      return () => {
        if (typeof off === 'function') off();
        else rt?.EventsOff?.('peers');
      };
    },
    notify(title, body) {
      call('Notify', title, body).catch(() => {});
    },
    async copy(text) {
      const set = w().runtime?.ClipboardSetText;
      if (set) {
        try {
          return (await set(text)) !== false;
        } catch {
          /* try the page's own way */
        }
      }
      return copyText(text);
    },
    async forgetKey(hostId) {
      await call('ForgetKey', hostId);
    },
    async exportTranscript(room, format) {
      return String((await call('ExportTranscript', room, format)) ?? '');
    },
    openURL(url) {
      const open = w().runtime?.BrowserOpenURL;
      if (open) open(url);
      else window.open(url, '_blank', 'noopener,noreferrer');
    },
    setTitle(title) {
      document.title = title;
      w().runtime?.WindowSetTitle?.(title);
    },
  };
  // an app that can rename its host (an older one cannot)
  if (typeof w().go?.app?.App?.SetHostName === 'function') {
    b.setHostName = async (name) => String((await call('SetHostName', name)) ?? '');
  }
  if (typeof w().go?.app?.App?.SetFileLimits === 'function') {
    b.fileLimits = async () => (await call('FileLimits')) as FileLimits;
    b.setFileLimits = async (fileMB, filesMB) => (await call('SetFileLimits', fileMB, filesMB)) as FileLimits;
  }
  return b;
}
