import { get } from 'svelte/store';
import { describe, expect, it } from 'vitest';
import { Drawers, type DrawerName } from './drawers';

function button(name: string, log: string[], connected = true) {
  return { isConnected: connected, focus: () => log.push(name) };
}

describe('drawers', () => {
  it('opens one drawer at a time, moves the focus in and gives it back to its button', () => {
    const log: string[] = [];
    const d = new Drawers((n: DrawerName) => log.push('into ' + n));
    const menu = button('menu button', log);
    const who = button('who button', log);
    d.toggle('menu', menu);
    expect(get(d.open)).toBe('menu');
    d.toggle('members', who);
    expect(get(d.open)).toBe('members');
    d.close();
    expect(get(d.open)).toBeUndefined();
    expect(log).toEqual(['into menu', 'into members', 'who button']);
  });

  it('closes on a second press of its button, and closing twice does nothing', () => {
    const log: string[] = [];
    const d = new Drawers();
    const menu = button('menu button', log);
    d.toggle('menu', menu);
    d.toggle('menu', menu);
    expect(get(d.open)).toBeUndefined();
    d.close();
    expect(log).toEqual(['menu button']);
  });

  it('leaves the focus alone when the button is gone', () => {
    const log: string[] = [];
    const d = new Drawers();
    d.show('members', button('old button', log, false));
    d.close();
    expect(log).toEqual([]);
  });
});
