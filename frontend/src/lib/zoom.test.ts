import { describe, expect, it } from 'vitest';
import { savedZoom, stepZoom, zoomStep } from './zoom';

describe('zoom', () => {
  it('steps through the levels and stops at both ends', () => {
    expect(stepZoom(1, 1)).toBe(1.1);
    expect(stepZoom(1.1, 1)).toBe(1.25);
    expect(stepZoom(1, -1)).toBe(0.9);
    expect(stepZoom(0.8, -1)).toBe(0.8);
    expect(stepZoom(2.5, 1)).toBe(2.5);
    expect(stepZoom(1.75, 0)).toBe(1);
    // a level between two snaps to the next one
    expect(stepZoom(1.2, 1)).toBe(1.25);
    expect(stepZoom(1.2, -1)).toBe(1.1);
  });
  it('knows the zoom keys, with Ctrl or ⌘ and without Alt', () => {
    const k = (key: string, mods: Partial<KeyboardEvent> = { ctrlKey: true }) => zoomStep({ key, ctrlKey: false, metaKey: false, altKey: false, ...mods });
    expect([k('='), k('+'), k('-'), k('0')]).toEqual([1, 1, -1, 0]);
    expect(k('=', { metaKey: true })).toBe(1);
    expect(k('=', {})).toBeUndefined();
    expect(k('=', { ctrlKey: true, altKey: true })).toBeUndefined();
    expect(k('a')).toBeUndefined();
  });
  it('remembers only real levels', () => {
    expect(savedZoom({ getItem: () => '1.5' })).toBe(1.5);
    expect(savedZoom({ getItem: () => '7' })).toBe(1);
    expect(savedZoom({ getItem: () => null })).toBe(1);
    expect(savedZoom(undefined)).toBe(1);
  });
});
