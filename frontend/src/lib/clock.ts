// The real clock, and random ids for client_ids and entry keys.

import type { Clock } from './types';

export const browserClock: Clock = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
  random: () => Math.random(),
};

export function randomId(prefix: string, clock: Clock): string {
  const c = globalThis.crypto;
  if (c && typeof c.getRandomValues === 'function') {
    const b = new Uint8Array(8);
    c.getRandomValues(b);
    return prefix + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }
  return prefix + Math.floor(clock.random() * 2 ** 52).toString(16) + clock.now().toString(16);
}
