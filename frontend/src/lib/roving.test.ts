import { describe, expect, it } from 'vitest';
import { nextIndex, tabStop } from './roving';

describe('roving tabindex', () => {
  it('moves with the arrows, Home and End, and stops at the ends', () => {
    expect(nextIndex('ArrowDown', 0, 3)).toBe(1);
    expect(nextIndex('ArrowDown', 2, 3)).toBe(2);
    expect(nextIndex('ArrowUp', 0, 3)).toBe(0);
    expect(nextIndex('ArrowUp', 2, 3)).toBe(1);
    expect(nextIndex('Home', 2, 3)).toBe(0);
    expect(nextIndex('End', 0, 3)).toBe(2);
    expect(nextIndex('Enter', 0, 3)).toBeUndefined();
    expect(nextIndex('ArrowDown', 0, 0)).toBeUndefined();
  });
  it('keeps the last focused item as the tab stop while it is there, else the current one, else the first', () => {
    const items = ['lobby', 'general', 'projects'];
    expect(tabStop(items, 'projects', (x) => x === 'general')).toBe('projects');
    expect(tabStop(items, 'gone', (x) => x === 'general')).toBe('general');
    expect(tabStop(items, undefined, () => false)).toBe('lobby');
    expect(tabStop([], undefined, () => true)).toBeUndefined();
  });
});
