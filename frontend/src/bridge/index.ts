// The bridge is the only code that knows whether it runs in the desktop app
// or in a browser.

import { browserBridge } from './browser';
import { desktopBridge, hasDesktop } from './desktop';
import type { Bridge } from './types';

export type { Bridge, FileLimits, Peer, SelfInfo, Settings, TranscriptFormat } from './types';
export { TRANSCRIPT_FORMATS } from './types';
export { askNotifications } from './browser';

let current: Bridge | undefined;

/** initBridge picks the bridge; in the desktop webview it waits briefly for the bindings. */
export async function initBridge(): Promise<Bridge> {
  if (current) return current;
  const inWebview = location.protocol === 'wails:' || location.hostname === 'wails.localhost';
  for (let i = 0; inWebview && !hasDesktop() && i < 60; i++) await new Promise((r) => setTimeout(r, 50));
  return bridge();
}

export function bridge(): Bridge {
  if (!current) current = hasDesktop() ? desktopBridge() : browserBridge();
  return current;
}

/** setBridge replaces the bridge (tests). */
export function setBridge(b: Bridge): void {
  current = b;
}
