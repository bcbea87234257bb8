// Keyboard movement in lists and between the window's regions.
//
// A list of items (the hosts of the rail, the room list) is one Tab stop:
// only one item is in the tab order (tabindex 0: the last one focused, else
// the current one, else the first), and the arrow keys, Home and End move
// between items (WAI-ARIA's roving tabindex). F6 and Shift+F6 jump between
// the regions (rail, rooms, conversation, composer), as in browsers and Slack.

/** nextIndex: where key moves the focus in a list of n items from i, or undefined for another key. */
export function nextIndex(key: string, i: number, n: number): number | undefined {
  if (n <= 0) return undefined;
  switch (key) {
    case 'ArrowDown':
    case 'ArrowRight':
      return Math.min(i + 1, n - 1);
    case 'ArrowUp':
    case 'ArrowLeft':
      return Math.max(i - 1, 0);
    case 'Home':
      return 0;
    case 'End':
      return n - 1;
  }
  return undefined;
}

/** tabStop: which of the items is the one in the tab order. */
export function tabStop<T>(items: readonly T[], last: T | undefined, current: (x: T) => boolean): T | undefined {
  if (last !== undefined && items.includes(last)) return last;
  return items.find(current) ?? items[0];
}

function enabled(el: HTMLElement): boolean {
  return !(el as HTMLButtonElement).disabled;
}

/**
 * roving makes the elements matching selector inside node one Tab stop,
 * moved between with the arrow keys, Home and End. It follows changes to
 * the list (items added, removed, made current).
 */
export function roving(node: HTMLElement, selector: string) {
  let sel = selector;
  let last: HTMLElement | undefined;
  const items = () => [...node.querySelectorAll<HTMLElement>(sel)].filter(enabled);
  const sync = () => {
    const list = items();
    const stop = tabStop(list, last, (el) => el.getAttribute('aria-current') === 'true');
    for (const el of list) {
      // the attribute, not the property: a button's tabIndex is 0 without one
      const want = el === stop ? '0' : '-1';
      if (el.getAttribute('tabindex') !== want) el.setAttribute('tabindex', want);
    }
  };
  const keydown = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const list = items();
    const i = list.indexOf(document.activeElement as HTMLElement);
    if (i < 0) return;
    const j = nextIndex(e.key, i, list.length);
    if (j === undefined) return;
    e.preventDefault();
    last = list[j];
    sync();
    list[j].focus();
  };
  const focusin = (e: FocusEvent) => {
    const el = (e.target as HTMLElement | null)?.closest<HTMLElement>(sel);
    if (el && node.contains(el)) {
      last = el;
      sync();
    }
  };
  // a current item that changes (a room opened by a click elsewhere) moves the stop only when none was focused
  const observer = new MutationObserver(() => sync());
  observer.observe(node, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-current', 'disabled'] });
  node.addEventListener('keydown', keydown);
  node.addEventListener('focusin', focusin);
  sync();
  return {
    update(selector: string) {
      sel = selector;
      sync();
    },
    destroy() {
      observer.disconnect();
      node.removeEventListener('keydown', keydown);
      node.removeEventListener('focusin', focusin);
    },
  };
}

/** A region F6 moves to: its element, and what in it takes the focus. */
export interface Region {
  name: string;
  /** the region's element (it holds the focus when inside it) */
  box: () => HTMLElement | null;
  /** what takes the focus when F6 moves here */
  entry: () => HTMLElement | null;
}

function shown(el: HTMLElement | null): el is HTMLElement {
  return !!el && el.getClientRects().length > 0;
}

/**
 * cycleRegion moves the focus to the next region (or the previous one with
 * back) that is on screen, from the one holding the focus now (from the
 * first when none does). It returns the region's name, or undefined.
 */
export function cycleRegion(regions: readonly Region[], back = false): string | undefined {
  const active = document.activeElement;
  const at = regions.findIndex((r) => {
    const box = r.box();
    return !!box && !!active && box.contains(active);
  });
  const n = regions.length;
  for (let k = 1; k <= n; k++) {
    const i = at < 0 ? (back ? n - k : k - 1) : (at + (back ? -k : k) + n * k) % n;
    const r = regions[i];
    const el = r.entry();
    if (shown(el)) {
      el.focus();
      return r.name;
    }
  }
  return undefined;
}
