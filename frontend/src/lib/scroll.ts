// Where the message list stands: the first message not yet seen when a room
// is opened (the "new messages" divider), how many others' messages came in
// below while the user read further up (the "new messages" button), and where
// the view opens.

import type { Entry } from './types';

/** near: how close to the bottom, in pixels, still counts as at the bottom. */
export const NEAR_BOTTOM = 60;

/** atBottom: the view shows the end of the list (or near enough). */
export function atBottom(scrollTop: number, scrollHeight: number, clientHeight: number, near = NEAR_BOTTOM): boolean {
  return scrollHeight - scrollTop - clientHeight < near;
}

function fromOthers(e: Entry): boolean {
  return e.kind === 'message' && !e.own;
}

/**
 * firstUnread is the key of the first of the last `unread` messages from
 * others (the count the client kept while the room was not on screen), or
 * undefined when none is unread. When the list holds fewer such messages than
 * the count, the first of them is it.
 */
export function firstUnread(entries: readonly Entry[], unread: number): string | undefined {
  if (unread <= 0) return undefined;
  let seen = 0;
  let key: string | undefined;
  for (let i = entries.length - 1; i >= 0 && seen < unread; i--) {
    if (!fromOthers(entries[i])) continue;
    seen++;
    key = entries[i].key;
  }
  return key;
}

/**
 * newSince counts the messages from others after the entry keyed `seen` (the
 * last one on screen when the user scrolled up). Unknown or no key: none.
 */
export function newSince(entries: readonly Entry[], seen: string | undefined): number {
  if (seen === undefined) return 0;
  let n = 0;
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i].key === seen) return n;
    if (fromOthers(entries[i])) n++;
  }
  return 0;
}

/**
 * openingTop is where a room with a divider opens: the divider near the top
 * (a little of what came before above it) when what follows it does not fit,
 * otherwise the bottom.
 */
export function openingTop(dividerTop: number, scrollHeight: number, clientHeight: number, above = 24): number {
  const bottom = Math.max(0, scrollHeight - clientHeight);
  return Math.max(0, Math.min(dividerTop - above, bottom));
}
