// The class list (roster) a host keeps on this device, one per host id: the
// names it expects, to show who has not come yet (src/lib/roster.ts).

import { writable, type Writable } from 'svelte/store';
import { parseRoster } from '../lib/roster';
import { localStore } from '../lib/storage';

const key = (hostId: string) => `lanchat.roster.${hostId}`;

/** loadRoster reads the class list kept for a host ([] when none, or unreadable). */
export function loadRoster(hostId: string, storage: Storage | undefined = localStore()): string[] {
  try {
    const raw = storage?.getItem(key(hostId));
    const v: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(v) ? parseRoster(v.filter((x) => typeof x === 'string').join('\n')) : [];
  } catch {
    return [];
  }
}

/** saveRoster keeps the class list for a host; an empty list forgets it. */
export function saveRoster(hostId: string, names: readonly string[], storage: Storage | undefined = localStore()): void {
  try {
    if (names.length) storage?.setItem(key(hostId), JSON.stringify(names));
    else storage?.removeItem(key(hostId));
  } catch {
    /* kept for this page only */
  }
}

const stores = new Map<string, Writable<string[]>>();

/** roster is the class list of a host as a store: set() keeps it on this device too. */
export function roster(hostId: string, storage?: Storage): Writable<string[]> {
  let s = stores.get(hostId);
  if (!s) {
    const w = writable(loadRoster(hostId, storage ?? localStore()));
    s = {
      subscribe: w.subscribe,
      set(v) {
        saveRoster(hostId, v, storage ?? localStore());
        w.set(v);
      },
      update(fn) {
        let next: string[] = [];
        w.update((cur) => (next = fn(cur)));
        saveRoster(hostId, next, storage ?? localStore());
      },
    };
    stores.set(hostId, s);
  }
  return s;
}
