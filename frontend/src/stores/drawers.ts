// The drawers of the phone layout (the menu, who is here): at most one is
// open; opening one moves the focus into it (focusInto), and closing it gives
// the focus back to the button that opened it.

import { writable, type Readable } from 'svelte/store';

export type DrawerName = 'menu' | 'members';

/** The phone layout's media query (the same width as the components' CSS). */
export const PHONE = '(max-width: 700px)';

/** onPhone: whether the phone layout is on (false where there is no window). */
export function onPhone(): boolean {
  return typeof matchMedia === 'function' && matchMedia(PHONE).matches;
}

export interface Opener {
  focus(): void;
  readonly isConnected?: boolean;
}

export class Drawers {
  private readonly store = writable<DrawerName | undefined>(undefined);
  /** the open drawer, if any */
  readonly open: Readable<DrawerName | undefined> = { subscribe: this.store.subscribe };
  private current?: DrawerName;
  private opener?: Opener;

  constructor(private readonly focusInto: (name: DrawerName) => void = () => {}) {}

  /** toggle opens name (closing any other), or closes it when it is open. */
  toggle(name: DrawerName, opener?: Opener): void {
    if (this.current === name) this.close();
    else this.show(name, opener);
  }

  /** show opens name; another open drawer closes without taking the focus back. */
  show(name: DrawerName, opener?: Opener): void {
    this.current = name;
    this.opener = opener;
    this.store.set(name);
    this.focusInto(name);
  }

  /** close closes the open drawer and gives the focus back to its button (if it is still on the page). */
  close(): void {
    if (!this.current) return;
    this.current = undefined;
    this.store.set(undefined);
    const o = this.opener;
    this.opener = undefined;
    if (o && o.isConnected !== false) o.focus();
  }
}
