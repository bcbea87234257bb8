import { describe, expect, it } from 'vitest';
import { applyTextSize, savedTextSize, saveTextSize, TEXT_SCALE, TEXT_SIZES } from './textsize';

function memory() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

describe('text size', () => {
  it('remembers only real sizes', () => {
    const s = memory();
    expect(savedTextSize(s)).toBe('normal');
    saveTextSize(s, 'presentation');
    expect(savedTextSize(s)).toBe('presentation');
    expect(savedTextSize({ getItem: () => 'huge' })).toBe('normal');
    expect(savedTextSize(undefined)).toBe('normal');
    expect(
      savedTextSize({
        getItem: () => {
          throw new Error('blocked');
        },
      }),
    ).toBe('normal');
    expect(() =>
      saveTextSize(
        {
          setItem: () => {
            throw new Error('full');
          },
        },
        'large',
      ),
    ).not.toThrow();
  });
  it('grows from size to size, Presentation by half again or more', () => {
    const scales = TEXT_SIZES.map((s) => TEXT_SCALE[s]);
    expect(scales[0]).toBe(1);
    expect([...scales].sort((a, b) => a - b)).toEqual(scales);
    expect(TEXT_SCALE.presentation).toBeGreaterThanOrEqual(1.5);
  });
  it('marks the root element, and Normal leaves it unmarked', () => {
    const root = { dataset: {} as Record<string, string> } as unknown as HTMLElement;
    applyTextSize(root, 'large');
    expect(root.dataset.textSize).toBe('large');
    applyTextSize(root, 'normal');
    expect(root.dataset.textSize).toBeUndefined();
  });
});
